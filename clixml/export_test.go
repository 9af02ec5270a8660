package clixml

// For clients_test.go, which is in package clixml_test so that it can
// import psrp.
var (
	UnmarshalFast   = unmarshalFast
	CheckFastAgrees = checkFastAgrees
)
