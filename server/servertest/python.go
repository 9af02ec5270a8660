package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python returns the Python interpreter that can import modules (the
// stock clients pywinrm and pypsrp): $PSGATE_PYTHON, else python3.
// Without one the test skips on a developer machine and fails under
// CI=true, where the README's test command installs them.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("PSGATE_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s cannot import %v: %v\n%s(install with the README's test command, or set PSGATE_PYTHON)", py, modules, err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}
