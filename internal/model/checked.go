package model

import (
	"errors"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
)

// CheckedRecorder passes on only values that have the shapes and lengths
// ZITADEL gives them, the same checks the zitadeltelemetry receiver applies
// to what it is sent (internal/fieldshape): a broken or hostile ZITADEL
// cannot put an e-mail address or a megabyte of text into a label value, or
// a negative number into a count. A refused instance or count is left out;
// a refused domain or version leaves out only itself. Its calls must not
// overlap, as a Recorder's do not.
type CheckedRecorder struct {
	next     Recorder
	problems fieldshape.Problems
}

// NewCheckedRecorder returns a recorder that checks what it passes to next.
func NewCheckedRecorder(next Recorder) *CheckedRecorder {
	return &CheckedRecorder{next: next}
}

// RecordInstance implements Recorder.
func (r *CheckedRecorder) RecordInstance(in Instance) { r.KeepInstance(in) }

// KeepInstance records in as RecordInstance does, and reports whether it
// was kept: an instance whose id is not one ZITADEL issues is left out, and
// a source leaves out with it all it would read under that id (its counts,
// its activity).
func (r *CheckedRecorder) KeepInstance(in Instance) bool {
	if p := fieldshape.CheckID(in.ID, fieldshape.MaxIDBytes); p != "" {
		r.problems.Add("an instance id %s: the instance is left out", p)
		return false
	}
	if in.SystemID != "" {
		if p := fieldshape.CheckID(in.SystemID, fieldshape.MaxSystemIDBytes); p != "" {
			r.problems.Add("instance %s: the system id %s: it is left out", in.ID, p)
			in.SystemID = ""
		}
	}
	if in.Version != "" {
		if p := fieldshape.CheckVersion(in.Version); p != "" {
			r.problems.Add("instance %s: the version %s: it is left out", in.ID, p)
			in.Version = ""
		}
	}
	var kept []string // nil while every domain is good: the source's slice is passed on
	for i, d := range in.Domains {
		p := fieldshape.CheckDomain(d)
		switch {
		case p != "":
			r.problems.Add("instance %s: domain %d %s: it is left out", in.ID, i, p)
			if kept == nil {
				kept = append(make([]string, 0, len(in.Domains)), in.Domains[:i]...)
			}
		case kept != nil:
			kept = append(kept, d)
		}
	}
	if kept != nil {
		in.Domains = kept
	}
	r.next.RecordInstance(in)
	return true
}

// RecordCount implements Recorder.
func (r *CheckedRecorder) RecordCount(c Count) {
	if p := r.countProblem(c); p != "" {
		r.problems.Add("%s: the count is left out", p)
		return
	}
	r.next.RecordCount(c)
}

// countProblem says what is wrong with c, or "". It allocates only for a
// problem: it runs for every row of a database page.
func (r *CheckedRecorder) countProblem(c Count) string {
	if p := fieldshape.CheckID(c.InstanceID, fieldshape.MaxIDBytes); p != "" {
		return "an instance id " + p
	}
	if p := fieldshape.CheckResourceName(c.Resource); p != "" {
		return "instance " + c.InstanceID + ": a resource name " + p
	}
	where := func() string { return "instance " + c.InstanceID + ": " + c.Resource }
	if p := fieldshape.CheckID(c.ParentID, fieldshape.MaxIDBytes); p != "" {
		return where() + ": the " + c.ParentType + " id " + p
	}
	if c.ParentType != ParentInstance && c.ParentType != ParentOrganization {
		return where() + ": the parent type is neither instance nor organization"
	}
	if c.Table != "" {
		if p := fieldshape.CheckTableName(c.Table); p != "" {
			return where() + ": the table name " + p
		}
	}
	if c.Amount < 0 {
		return where() + " of " + c.ParentType + " " + c.ParentID + ": the amount is negative"
	}
	return ""
}

// Refused returns nil, or an error naming the first values that were left
// out and how many there were in all.
func (r *CheckedRecorder) Refused() (int, error) {
	if r.problems.Count() == 0 {
		return 0, nil
	}
	return r.problems.Count(), errors.New("ZITADEL answered values that are not what it issues: " + r.problems.Join(""))
}
