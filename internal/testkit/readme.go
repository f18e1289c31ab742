package testkit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"gopkg.in/yaml.v3"
)

// READMEStatesTheDefaults holds every default a component's README states in its key tables
// (the tables whose header row starts with the cells key and default) to the component's
// default configuration, cfg, marshalled through confmap as the collector's print-config shows
// it.
//
// A row states a default when its default cell is a code span, alone or followed by a
// parenthesis: a row "`a::b` | `1h` (…)" says the key a::b defaults to 1h. Durations, sizes
// and numbers are compared by value (1h is 3600000000000), a size in parentheses after a
// number, "(20 MiB)", must be that number, and [] is an empty or unset list. A cell starting
// "on:" states that the block is on, and its code spans "key: value" the block's keys. Rows
// whose default is prose (none, —, empty, "found by the source") are skipped.
//
// Keys are paths with :: separators; where the key as written is none of the configuration's,
// a dot separates too (retry.max_retries is retry::max_retries, while
// metrics::zitadel.logins::enabled keeps its dots). A segment <name> stands for every key at
// its level, and "`a::include` / `exclude`" in one cell names two keys. blocks maps a section
// heading ("## `api` source") to the key path its tables are relative to ("api"), up to the
// next heading of the same or a higher level.
func READMEStatesTheDefaults(t *testing.T, readmePath string, cfg any, blocks map[string]string) {
	t.Helper()
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	conf := confmap.New()
	if err := conf.Marshal(cfg); err != nil {
		t.Fatalf("marshal the default configuration: %v", err)
	}
	type heading struct {
		level  int
		prefix string
	}
	var (
		sections []heading
		inTable  bool
		checked  int
		lineNo   int
	)
	for sc := bufio.NewScanner(bytes.NewReader(readme)); sc.Scan(); {
		line := sc.Text()
		lineNo++
		if level := len(line) - len(strings.TrimLeft(line, "#")); level > 0 && strings.HasPrefix(line[level:], " ") {
			for len(sections) > 0 && sections[len(sections)-1].level >= level {
				sections = sections[:len(sections)-1]
			}
			sections = append(sections, heading{level: level, prefix: blocks[line]})
			continue
		}
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		keyCell, defaultCell := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if !inTable {
			inTable = keyCell == "key" && defaultCell == "default"
			continue
		}
		prefix := ""
		for _, s := range sections {
			if s.prefix != "" {
				prefix = s.prefix
			}
		}
		where := fmt.Sprintf("%s:%d", readmePath, lineNo)
		for _, key := range readmeKeys(keyCell) {
			if prefix != "" {
				key = prefix + "::" + key
			}
			checked += checkStatedDefault(t, conf, where, key, defaultCell)
		}
	}
	if checked == 0 {
		t.Errorf("%s: no key table row states a default", readmePath)
	}
}

var (
	codeSpan = regexp.MustCompile("`([^`]*)`")
	// statedDefault is a default cell that states one: a code span alone or followed by a
	// parenthesis, not an expression such as `issuer` + `/oauth/v2/token`.
	statedDefault = regexp.MustCompile("^`([^`]*)`(?:$| \\()")
	statedSize    = regexp.MustCompile("^`[^`]*` \\((\\d+) (KiB|MiB|GiB)\\)")
	blockSetting  = regexp.MustCompile(`^([a-z_]+): (.+)$`)
)

// readmeKeys are the keys a key cell names: "`a`, `b`" names a and b, "`x::include` /
// `exclude`" names x::include and x::exclude.
func readmeKeys(cell string) []string {
	var keys []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		key := m[1]
		if len(keys) > 0 && !strings.ContainsAny(key, ".:") {
			if at := strings.LastIndex(keys[0], "::"); at >= 0 {
				key = keys[0][:at+2] + key
			}
		}
		keys = append(keys, key)
	}
	return keys
}

// checkStatedDefault checks the default a row's cell states for key and returns how many keys
// it checked: none when the cell states no default.
func checkStatedDefault(t *testing.T, conf *confmap.Conf, where, key, cell string) int {
	t.Helper()
	if rest, on := strings.CutPrefix(cell, "on:"); on {
		keys := resolveKeys(conf, key)
		if len(keys) == 0 {
			t.Errorf("%s: `%s` is not a key of the default configuration", where, key)
			return 1
		}
		for _, k := range keys {
			if conf.Get(k) == nil {
				t.Errorf("%s: `%s` is on, the default configuration has it off", where, k)
			}
			if enabled, ok := conf.Get(k + "::enabled").(bool); ok && !enabled {
				t.Errorf("%s: `%s` is on, the default configuration has enabled: false", where, k)
			}
		}
		n := 1
		for _, m := range codeSpan.FindAllStringSubmatch(rest, -1) {
			if s := blockSetting.FindStringSubmatch(m[1]); s != nil {
				n += checkStatedDefault(t, conf, where, key+"::"+s[1], "`"+s[2]+"`")
			}
		}
		return n
	}
	m := statedDefault.FindStringSubmatch(cell)
	if m == nil {
		return 0
	}
	stated := m[1]
	keys := resolveKeys(conf, key)
	if len(keys) == 0 {
		t.Errorf("%s: `%s` (default `%s`) is not a key of the default configuration", where, key, stated)
		return 1
	}
	for _, k := range keys {
		if same, err := sameDefault(stated, conf.Get(k)); err != nil || !same {
			t.Errorf("%s: `%s`: the README states `%s`, the default configuration has %v%s", where, k, stated, conf.Get(k), because(err))
		}
		if m := statedSize.FindStringSubmatch(cell); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			size := n << map[string]int{"KiB": 10, "MiB": 20, "GiB": 30}[m[2]]
			if strconv.FormatInt(size, 10) != stated {
				t.Errorf("%s: `%s`: `%s` is not %s %s", where, k, stated, m[1], m[2])
			}
		}
	}
	return len(keys)
}

// resolveKeys finds key in conf: as written, with `.` read as a separator too, and with a
// `<name>` segment standing for every key at its level.
func resolveKeys(conf *confmap.Conf, key string) []string {
	for _, candidate := range []string{key, strings.ReplaceAll(key, ".", "::")} {
		if keys := expandPlaceholders(conf, strings.Split(candidate, "::")); len(keys) > 0 {
			return keys
		}
	}
	return nil
}

func expandPlaceholders(conf *confmap.Conf, segments []string) []string {
	for i, s := range segments {
		if !strings.HasPrefix(s, "<") || !strings.HasSuffix(s, ">") {
			continue
		}
		parent := strings.Join(segments[:i], "::")
		sub, err := conf.Sub(parent)
		if err != nil {
			return nil
		}
		var keys []string
		for name := range sub.ToStringMap() {
			keys = append(keys, expandPlaceholders(conf, append(append(append([]string{}, segments[:i]...), name), segments[i+1:]...))...)
		}
		return keys
	}
	if key := strings.Join(segments, "::"); conf.IsSet(key) {
		return []string{key}
	}
	return nil
}

// because words a comparison's error as the end of a message.
func because(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// sameDefault compares a default as the README writes it with the marshalled value; the error
// says why the two cannot be compared.
func sameDefault(stated string, got any) (bool, error) {
	switch v := got.(type) {
	case time.Duration:
		d, err := time.ParseDuration(stated)
		return d == v, err
	case nil:
		return stated == "[]" || stated == "{}", nil
	}
	rv := reflect.ValueOf(got)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(stated, 10, 64)
		return n == rv.Int(), err
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(stated, 10, 64)
		return n == rv.Uint(), err
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(stated, 64)
		return f == rv.Float(), err
	case reflect.Bool:
		b, err := strconv.ParseBool(stated)
		return b == rv.Bool(), err
	case reflect.String:
		return stated == rv.String(), nil
	case reflect.Slice, reflect.Map:
		var want any
		if err := yaml.Unmarshal([]byte(stated), &want); err != nil {
			return false, err
		}
		wv := reflect.ValueOf(want)
		if wv.Kind() != rv.Kind() {
			return false, fmt.Errorf("%s is not a %s", stated, rv.Kind())
		}
		return wv.Len() == 0 && rv.Len() == 0 || fmt.Sprint(want) == fmt.Sprint(got), nil
	default:
		return false, fmt.Errorf("a %T is not compared", got)
	}
}
