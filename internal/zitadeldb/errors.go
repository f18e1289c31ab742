package zitadeldb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the receiver explains.
const (
	codeInsufficientPrivilege = "42501"
	codeUndefinedTable        = "42P01"
	codeUndefinedColumn       = "42703"
)

// readError is a failed read, told in terms of what the operator can change.
type readError struct {
	what string // what was being read
	msg  string
	hint string
	err  error
}

func (e *readError) Error() string {
	if e.hint == "" {
		return e.what + ": " + e.msg
	}
	return e.what + ": " + e.msg + ": " + e.hint
}

func (e *readError) Unwrap() error { return e.err }

// explain wraps an error of a query that reads relations as user. Refused
// privileges name the GRANT that fixes them.
func explain(err error, what string, relations []string, user string) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return &readError{what: what, msg: err.Error(), err: err}
	}
	e := &readError{what: what, msg: pgErr.Message, err: err}
	switch pgErr.Code {
	case codeInsufficientPrivilege:
		e.hint = grantHint(pgErr.Message, relations, user)
	case codeUndefinedTable, codeUndefinedColumn:
		e.hint = "read " + strings.Join(relations, ", ") +
			" of ZITADEL v4 or later; check database (and events_table)"
	default:
		e.msg = pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	}
	return e
}

// grantHint reads PostgreSQL's "permission denied for <kind> <name>".
func grantHint(msg string, relations []string, user string) string {
	role := quoteIdent(user)
	_, object, _ := strings.Cut(msg, "permission denied for ")
	kind, name, _ := strings.Cut(object, " ")
	switch kind {
	case "schema":
		return fmt.Sprintf("grant USAGE ON SCHEMA %s TO %s", name, role)
	case "table", "view":
		for _, r := range relations {
			if r == name || strings.HasSuffix(r, "."+name) {
				return fmt.Sprintf("grant SELECT ON %s TO %s", r, role)
			}
		}
	case "database":
		return fmt.Sprintf("grant CONNECT ON DATABASE %s TO %s", name, role)
	}
	return fmt.Sprintf("grant SELECT ON %s TO %s", strings.Join(relations, ", "), role)
}

// quoteIdent quotes a role name only where SQL needs it, so the usual hint
// reads as the operator would type it.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if (r < 'a' || r > 'z') && r != '_' && (i == 0 || (r < '0' || r > '9') && r != '$') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// isServerError reports whether the server answered the query: the session
// is intact and the next read may still succeed.
func isServerError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P")
}
