package cluster

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitIssueAndLoad(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if err := Init(dir, now); err != nil {
		t.Fatal(err)
	}
	if err := Init(dir, now); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a second init over an authority: %v, want a refusal", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, CAKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the authority's key: %v %v, want mode 0600", fi.Mode(), err)
	}
	cert, key, err := Issue(dir, "gw1", []string{"gw1.internal", "10.0.0.11"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Issue(dir, "gw1", nil, now); err == nil {
		t.Fatal("issuing over an existing node certificate succeeded")
	}
	for _, bad := range []string{"", "../x", "ca"} {
		if _, _, err := Issue(dir, bad, nil, now); err == nil {
			t.Errorf("node name %q accepted", bad)
		}
	}
	got, err := LoadTLS(filepath.Join(dir, CAFile), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "gw1" || got.Server.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("LoadTLS: name %q, client auth %v", got.Name, got.Server.ClientAuth)
	}
	leaf := got.Server.Certificates[0].Leaf
	if leaf == nil || leaf.VerifyHostname("gw1.internal") != nil || leaf.VerifyHostname("10.0.0.11") != nil || leaf.VerifyHostname("127.0.0.1") != nil {
		t.Fatalf("the node certificate does not cover its hosts: %v", leaf)
	}

	// A certificate of another authority is refused at start.
	other := t.TempDir()
	if err := Init(other, now); err != nil {
		t.Fatal(err)
	}
	oc, ok, err := Issue(other, "gw2", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLS(filepath.Join(dir, CAFile), oc, ok); err == nil || !strings.Contains(err.Error(), "not one the authority") {
		t.Fatalf("a node certificate of another authority: %v", err)
	}
	if _, err := LoadTLS("", cert, key); err == nil {
		t.Fatal("LoadTLS without the authority succeeded")
	}
}
