package fieldshape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The shapes of the values ZITADEL issues. The exporter sends a contract
// field only when its value has the shape ZITADEL gives it, so that personal
// data another pipeline put into a field (an e-mail address as a parent id, a
// user name as a resource name) is refused instead of reported: none of these
// shapes admits '@', a space, or any character outside ASCII.
//
//   - ids (instance, organization, system): ZITADEL's snowflakes are digits,
//     custom organization ids and UUIDs add letters and '-', system ids are
//     base64url ('-' and '_'); idChars is the union.
//   - resource names are ZITADEL's snake_case names: lower-case letters,
//     digits and '_', starting with a letter.
//   - table names are "schema.table" or "table", PostgreSQL identifiers as
//     ZITADEL writes them: letters, digits and '_', not starting with a digit.
//   - domains are host names: dot-separated labels of letters, digits and
//     '-', at most 63 bytes each and 253 in all.
//   - versions are what ZITADEL's build stamps: "v4.13.1", "v4.0.0-rc.2+abc",
//     or a build date such as "2025-01-02T03:04:05Z".
const (
	maxDomainBytes      = 253
	maxDomainLabelBytes = 63
	// MaxVersionBytes bounds versions: ZITADEL's are a dozen characters.
	MaxVersionBytes = 64
)

// byteClass is a set of ASCII bytes, indexed by any byte so that a check
// needs no range test.
type byteClass [256]bool

func newByteClass(ranges ...string) *byteClass {
	var c byteClass
	for _, r := range ranges {
		if len(r) == 3 && r[1] == '-' {
			for b := r[0]; b <= r[2]; b++ {
				c[b] = true
			}
			continue
		}
		for i := 0; i < len(r); i++ {
			c[r[i]] = true
		}
	}
	return &c
}

var (
	idChars        = newByteClass("a-z", "A-Z", "0-9", "-_")
	nameChars      = newByteClass("a-z", "0-9", "_")
	identChars     = newByteClass("a-z", "A-Z", "0-9", "_")
	hostLabelChars = newByteClass("a-z", "A-Z", "0-9", "-")
	versionChars   = newByteClass("a-z", "A-Z", "0-9", ".+-_:")
)

// firstOutside returns the index of the first byte of s not in c, or -1.
func (c *byteClass) firstOutside(s string) int {
	for i := 0; i < len(s); i++ {
		if !c[s[i]] {
			return i
		}
	}
	return -1
}

// CheckID says what is wrong with an id, or "".
func CheckID(s string, limit int) string {
	if p := checkLength(s, limit); p != "" {
		return p
	}
	if i := idChars.firstOutside(s); i >= 0 {
		return "is not an id: " + describeByte(s, i) + "; ids have letters, digits, '-' and '_'"
	}
	return ""
}

// CheckApplicationID says what is wrong with an application id, or "". An
// OIDC client id is ZITADEL's id, '@' and the project's name, lower case with
// '_' for spaces, so it may hold any printable character but a space; a SAML
// entity id is a URI. Neither holds a space or a control character, and
// neither is long.
func CheckApplicationID(s string) string {
	if p := checkLength(s, MaxApplicationIDBytes); p != "" {
		return p
	}
	if !utf8.ValidString(s) {
		return "is not an application id: it is not UTF-8"
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf && (r <= ' ' || r == 0x7f):
			return "is not an application id: " + describeByte(s, i)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Sprintf("is not an application id: byte %d starts a space or control character", i)
		}
	}
	return ""
}

// CheckResourceName says what is wrong with a resource name, or "".
func CheckResourceName(s string) string {
	if p := checkLength(s, MaxResourceNameBytes); p != "" {
		return p
	}
	if i := nameChars.firstOutside(s); i >= 0 {
		return "is not a resource name: " + describeByte(s, i) + "; names have lower-case letters, digits and '_'"
	}
	if s[0] < 'a' || s[0] > 'z' {
		return "is not a resource name: it must start with a lower-case letter"
	}
	return ""
}

// CheckTableName says what is wrong with a table name, or "".
func CheckTableName(s string) string {
	if p := checkLength(s, MaxTableNameBytes); p != "" {
		return p
	}
	schema, table, qualified := strings.Cut(s, ".")
	if strings.Contains(table, ".") {
		return "is not a table name: want table or schema.table"
	}
	if p := checkIdentifier(schema); p != "" {
		return p
	}
	if qualified {
		return checkIdentifier(table)
	}
	return ""
}

// checkIdentifier checks one part of a table name.
func checkIdentifier(part string) string {
	if part == "" || (part[0] >= '0' && part[0] <= '9') {
		return "is not a table name: each part is an identifier that does not start with a digit"
	}
	if i := identChars.firstOutside(part); i >= 0 {
		return "is not a table name: " + describeByte(part, i) + "; identifiers have letters, digits and '_'"
	}
	return ""
}

// CheckDomain says what is wrong with a domain, or "".
func CheckDomain(s string) string {
	if p := checkLength(s, maxDomainBytes); p != "" {
		return p
	}
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return "is not a host name: it has an empty label"
		case len(label) > maxDomainLabelBytes:
			return fmt.Sprintf("is not a host name: a label is longer than %d bytes", maxDomainLabelBytes)
		case label[0] == '-' || label[len(label)-1] == '-':
			return "is not a host name: a label starts or ends with '-'"
		}
		if i := hostLabelChars.firstOutside(label); i >= 0 {
			return "is not a host name: " + describeByte(label, i)
		}
	}
	return ""
}

// CheckVersion says what is wrong with a version, or "".
func CheckVersion(s string) string {
	if p := checkLength(s, MaxVersionBytes); p != "" {
		return p
	}
	if i := versionChars.firstOutside(s); i >= 0 {
		return "is not a version: " + describeByte(s, i) + "; versions have letters, digits and . + - _ :"
	}
	return ""
}

// checkLength says what is wrong with the length of a required value, or "".
func checkLength(s string, limit int) string {
	switch {
	case s == "":
		return "is missing"
	case len(s) > limit:
		return fmt.Sprintf("is longer than %d bytes", limit)
	}
	return ""
}

// describeByte names the offending byte without repeating the value, which
// may be exactly the personal data being kept out.
func describeByte(s string, i int) string {
	b := s[i]
	switch {
	case b >= utf8.RuneSelf:
		return fmt.Sprintf("byte %d is outside ASCII", i)
	case b < 0x20 || b == 0x7f:
		return fmt.Sprintf("byte %d is a control character", i)
	case b == ' ':
		return fmt.Sprintf("byte %d is a space", i)
	}
	return fmt.Sprintf("byte %d is %q", i, rune(b))
}
