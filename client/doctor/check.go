package doctor

import (
	"context"
	"sync"
	"time"

	"github.com/psgate/psgate"
)

// Status is the outcome of a check.
type Status string

// Statuses.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is what one check found.
type Result struct {
	Name       string        `json:"name"`
	Status     Status        `json:"status"`
	Code       psgate.Code   `json:"code,omitempty"`
	Message    string        `json:"message"`
	Resolution string        `json:"resolution,omitempty"`
	Duration   time.Duration `json:"durationNs"`
}

// Check is one diagnosis step.
type Check struct {
	Name string
	// Needs names checks that must pass first; when one does not, this
	// check is skipped.
	Needs []string
	Run   func(ctx context.Context) Result
}

// Pass returns a passed result.
func Pass(format string) Result { return Result{Status: Passed, Message: format} }

// Skip returns a skipped result with the reason.
func Skip(reason string) Result { return Result{Status: Skipped, Message: reason} }

// Fail returns the failed result of a catalog error (or any error).
func Fail(err error) Result {
	if e, ok := psgate.AsError(err); ok {
		return Result{Status: Failed, Code: e.Code, Message: e.Message, Resolution: e.Resolution}
	}
	return Result{Status: Failed, Code: psgate.CodeInternal, Message: err.Error()}
}

// Run runs checks in parallel, each once its prerequisites are done, and
// returns the results in the order of checks. Unknown prerequisites are
// ignored.
func Run(ctx context.Context, checks []Check) []Result {
	results := make([]Result, len(checks))
	done := make(map[string]chan struct{}, len(checks))
	index := make(map[string]int, len(checks))
	for i, c := range checks {
		done[c.Name] = make(chan struct{})
		index[c.Name] = i
	}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[c.Name])
			for _, need := range c.Needs {
				ch, ok := done[need]
				if !ok {
					continue
				}
				<-ch
				if r := results[index[need]]; r.Status != Passed {
					results[i] = Result{Name: c.Name, Status: Skipped, Message: "skipped: " + need + " did not pass"}
					return
				}
			}
			start := time.Now()
			r := c.Run(ctx)
			r.Name, r.Duration = c.Name, time.Since(start)
			results[i] = r
		}()
	}
	wg.Wait()
	return results
}
