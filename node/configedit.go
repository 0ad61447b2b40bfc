package node

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/inferd/inferd/ledger"
)

// ErrUnknownSetting is returned for a dotted key that names no setting.
var ErrUnknownSetting = errors.New("unknown setting")

// setting is one leaf of Config reached by its dotted TOML name.
type setting struct {
	section, key string // section "" for top-level keys
	index        []int  // reflect field path from Config
}

func (s setting) name() string {
	if s.section == "" {
		return s.key
	}
	return s.section + "." + s.key
}

var durationType = reflect.TypeOf(Duration{})

// settings lists every leaf of Config by dotted name, sorted. It reads the
// struct tags, so a section added to Config is settable without more code.
func settings() []setting {
	var out []setting
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := tomlName(f)
		if tag == "" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			for j := 0; j < f.Type.NumField(); j++ {
				g := f.Type.Field(j)
				if k := tomlName(g); k != "" {
					out = append(out, setting{section: tag, key: k, index: []int{i, j}})
				}
			}
			continue
		}
		out = append(out, setting{key: tag, index: []int{i}})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name() < out[b].name() })
	return out
}

func tomlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// ConfigKeys are the dotted names `inferd config set` accepts, sorted.
func ConfigKeys() []string {
	var out []string
	for _, s := range settings() {
		out = append(out, s.name())
	}
	return out
}

func lookup(key string) (setting, error) {
	for _, s := range settings() {
		if s.name() == key {
			return s, nil
		}
	}
	return setting{}, fmt.Errorf("%w %q; valid settings: %s", ErrUnknownSetting, key, strings.Join(ConfigKeys(), ", "))
}

// Get returns the value of a dotted setting in the form Set accepts:
// lists comma-separated, durations as "1s".
func (c *Config) Get(key string) (string, error) {
	s, err := lookup(key)
	if err != nil {
		return "", err
	}
	v := reflect.ValueOf(c).Elem().FieldByIndex(s.index)
	switch {
	case v.Type() == durationType:
		return v.Interface().(Duration).String(), nil
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ","), nil
	}
	return fmt.Sprint(v.Interface()), nil
}

// Set parses value for the dotted setting key and stores it in c. It does
// not validate the whole configuration (Validate does).
func (c *Config) Set(key, value string) error {
	s, err := lookup(key)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(c).Elem().FieldByIndex(s.index)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration (use e.g. 500ms, 1s, 2m)", key, value)
		}
		v.Set(reflect.ValueOf(Duration{d}))
	case v.Kind() == reflect.String:
		v.SetString(value)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a boolean (use true or false)", key, value)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not an integer", key, value)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Uint || v.Kind() == reflect.Uint64:
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a non-negative integer", key, value)
		}
		v.SetUint(n)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		list := []string{}
		for _, p := range strings.Split(value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("%s: a %s cannot be set from the command line; edit config.toml", key, v.Type())
	}
	return nil
}

// ReadConfig decodes config.toml from home without validating it, refusing
// unknown keys (a broken value can then be fixed with SetConfig).
func ReadConfig(home string) (Config, error) {
	path := filepath.Join(home, ConfigFile)
	c := DefaultConfig("")
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	md, err := toml.Decode(string(raw), &c)
	if err != nil {
		return c, fmt.Errorf("read %s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return c, fmt.Errorf("%s: unknown setting %q (see docs/operations.md)", path, und[0].String())
	}
	return c, nil
}

// SetConfig changes one dotted setting in home's config.toml after
// checking the value and the whole configuration with it. The file's other
// lines, comments included, are kept: only the setting's line changes (or
// is added to its section). It returns the new value as stored.
func SetConfig(home, key, value string) (string, error) {
	path := filepath.Join(home, ConfigFile)
	c, err := ReadConfig(home)
	if err != nil {
		return "", err
	}
	if err := c.Set(key, value); err != nil {
		return "", err
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	s, _ := lookup(key)
	var line bytes.Buffer
	fv := reflect.ValueOf(c).FieldByIndex(s.index).Interface()
	if err := toml.NewEncoder(&line).Encode(map[string]any{s.key: fv}); err != nil {
		return "", err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	edited := editTOML(string(raw), s.section, s.key, strings.TrimRight(line.String(), "\n"))
	var check Config = DefaultConfig("")
	if _, err := toml.Decode(edited, &check); err != nil || !reflect.DeepEqual(check, c) {
		// The file has a shape the line editor does not follow (a key in
		// an inline table, say): write it out whole instead.
		var b strings.Builder
		b.WriteString("# inferd node configuration. See docs/operations.md for every setting.\n\n")
		if err := toml.NewEncoder(&b).Encode(c); err != nil {
			return "", err
		}
		edited = b.String()
	}
	if err := ledger.WriteFileAtomic(path, []byte(edited), 0o644); err != nil {
		return "", err
	}
	return c.Get(key)
}

var sectionRE = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$`)

// editTOML replaces the line(s) of key in section with line, or adds line
// at the end of the section (a new section at the end of the file).
func editTOML(text, section, key, line string) string {
	lines := strings.Split(text, "\n")
	keyRE := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(key) + `\s*=`)
	cur, end := "", -1 // end: index after the last non-blank line of the section
	if section == "" {
		end = 0
	}
	for i := 0; i < len(lines); i++ {
		if m := sectionRE.FindStringSubmatch(lines[i]); m != nil {
			cur = m[1]
			if cur == section {
				end = i + 1
			}
			continue
		}
		if cur != section {
			continue
		}
		if strings.TrimSpace(lines[i]) != "" && !strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
			end = i + 1
		}
		if !keyRE.MatchString(lines[i]) {
			continue
		}
		j := i // a multi-line array runs until its brackets balance
		for depth := bracketDepth(lines[j]); depth > 0 && j+1 < len(lines); {
			j++
			depth += bracketDepth(lines[j])
		}
		out := append(append(append([]string{}, lines[:i]...), line), lines[j+1:]...)
		return strings.Join(out, "\n")
	}
	if end < 0 {
		return strings.TrimRight(text, "\n") + "\n\n[" + section + "]\n" + line + "\n"
	}
	out := append(append(append([]string{}, lines[:end]...), line), lines[end:]...)
	return strings.Join(out, "\n")
}

// bracketDepth counts '[' minus ']' outside strings and comments.
func bracketDepth(s string) int {
	d, inStr := 0, byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inStr != 0:
			if ch == '\\' && inStr == '"' {
				i++
			} else if ch == inStr {
				inStr = 0
			}
		case ch == '"' || ch == '\'':
			inStr = ch
		case ch == '#':
			return d
		case ch == '[':
			d++
		case ch == ']':
			d--
		}
	}
	return d
}
