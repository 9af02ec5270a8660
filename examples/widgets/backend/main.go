// Command backend runs the example widget service that the Contoso.Widgets
// module (examples/widgets/widgets.json) calls:
//
//	go run ./examples/widgets/backend -issuer https://127.0.0.1:5986 -insecure
//
// It listens on 127.0.0.1:8089, the module's baseUrl, and verifies every
// call's token against the psgate issuer's JWKS.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/psgate/psgate/examples/widgets/widgetsvc"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:8089", "address to listen on")
	issuer := flag.String("issuer", "https://127.0.0.1:5986", "psgate's token issuer URL (psgate serve prints it)")
	audience := flag.String("audience", "urn:contoso:widgets", "the audience the tokens must carry (the module's backends.widgets.audience)")
	insecure := flag.Bool("insecure", false, "accept psgate's self-signed certificate when fetching its JWKS (a demo only)")
	flag.Parse()
	client := &http.Client{Timeout: 10 * time.Second}
	if *insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // opted into for the demo's self-signed gateway
	}
	svc, err := widgetsvc.New(widgetsvc.Config{Issuer: *issuer, Audience: *audience, HTTPClient: client})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log.Printf("widget service on http://%s/api (tokens from %s for %s)", *addr, *issuer, *audience)
	srv := &http.Server{Addr: *addr, Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
