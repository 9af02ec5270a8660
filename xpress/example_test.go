package xpress_test

import (
	"fmt"

	"github.com/psgate/psgate/xpress"
)

func Example() {
	// A server answering a client that negotiated rsp:CompressionType xpress
	// frames each ReceiveResponse stream payload...
	payload := xpress.Frame([]byte("<Obj RefId=\"0\"><S>hello</S></Obj>"))
	fmt.Printf("% x\n", payload[:4])

	// ...and unframes each Send stream payload, bounding its size.
	data, err := xpress.Unframe(payload, 1<<20)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", data)
	// Output:
	// 20 00 20 00
	// <Obj RefId="0"><S>hello</S></Obj>
}
