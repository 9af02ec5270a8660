package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names in a cluster directory (psgate cluster init).
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
)

// Validity of the certificates psgate issues.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	nodeValidity = 2 * 365 * 24 * time.Hour
)

// Init creates a cluster certificate authority in dir: CAFile (give it to
// every node) and CAKeyFile (keep it off the nodes once their certificates
// are issued). It refuses to overwrite an existing authority, whose
// replacement would cut every node off from the others.
func Init(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster: directory %s: %w", dir, err)
	}
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("cluster: %s already exists: a cluster authority is there; issue node certificates with psgate cluster cert, or choose another directory", p)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("cluster: generate the authority's key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "psgate cluster authority", Organization: []string{"psgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("cluster: create the authority's certificate: %w", err)
	}
	return writePair(certPath, keyPath, der, key)
}

// Issue signs a certificate for the node name with the authority in dir
// and writes it to dir/<name>.pem and dir/<name>-key.pem. hosts are the
// DNS names and IP addresses peers reach the node's internal listener by;
// localhost and 127.0.0.1 are always included. The certificate serves both
// ends of a link: the node's internal listener and its requests to peers.
func Issue(dir, name string, hosts []string, now time.Time) (certPath, keyPath string, err error) {
	if name == "" || filepath.Base(name) != name || name == "ca" {
		return "", "", fmt.Errorf("cluster: node name %q: use a plain name (letters, digits, dots, dashes) other than \"ca\"", name)
	}
	ca, caKey, err := loadAuthority(dir)
	if err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("cluster: generate the node key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"psgate cluster"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(nodeValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	seen := map[string]bool{}
	for _, h := range append([]string{name, "localhost", "127.0.0.1", "::1"}, hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", fmt.Errorf("cluster: sign the certificate of node %s: %w", name, err)
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// loadAuthority reads the authority's certificate and key from dir.
func loadAuthority(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: read the authority in %s (create one with psgate cluster init): %w", dir, err)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: parse the authority's certificate: %w", err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !ca.IsCA {
		return nil, nil, fmt.Errorf("cluster: %s is not a psgate cluster authority", filepath.Join(dir, CAFile))
	}
	return ca, key, nil
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("cluster: certificate serial: %w", err)
	}
	return serial, nil
}

// writePair writes a certificate (0644) and its key (0600), the key first
// and neither over an existing file.
func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("cluster: encode the key: %w", err)
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cluster: %s already exists; remove it first to issue a new one", path)
	}
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cluster: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cluster: write %s: %w", path, err)
	}
	return nil
}

// TLS holds a node's side of the links between nodes.
type TLS struct {
	// Server is the internal listener's configuration: it requires a
	// client certificate signed by the cluster authority.
	Server *tls.Config
	// Client is the configuration for requests to peers: it presents the
	// node's certificate and trusts only the cluster authority.
	Client *tls.Config
	// Name is the common name of the node's certificate.
	Name string
}

// LoadTLS reads the authority's certificate and the node's certificate and
// key, and checks that the authority signed the node's certificate for
// both ends of a link.
func LoadTLS(caPath, certPath, keyPath string) (*TLS, error) {
	if caPath == "" || certPath == "" || keyPath == "" {
		return nil, errors.New("cluster: the internal listener needs the cluster authority's certificate and the node's certificate and key (cluster.ca, cluster.cert, cluster.key; psgate cluster init and psgate cluster cert make them)")
	}
	caPEM, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("cluster: read the authority's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("cluster: %s holds no PEM certificate", caPath)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("cluster: load the node certificate %s: %w", certPath, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("cluster: parse the node certificate %s: %w", certPath, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("cluster: the node certificate %s is not one the authority %s issued for a node: %w", certPath, caPath, err)
	}
	return &TLS{
		Name: leaf.Subject.CommonName,
		Server: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{pair},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
		},
		Client: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{pair},
			RootCAs:      pool,
		},
	}, nil
}
