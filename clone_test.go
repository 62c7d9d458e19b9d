package tongban

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fill sets every field reachable from v to a non-zero value, so that a
// field Clone forgets shows up as shared memory or as a difference.
func fill(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fill(t, v.Index(i), path+"[]")
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, path+"{key}")
		fill(t, e, path+"{}")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(t, v.Index(i), path+"[]")
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			// Derived is never stored (and leads back to Case).
			if f.IsExported() && f.Type != reflect.TypeOf((*Derived)(nil)) {
				fill(t, v.Field(i), path+"."+f.Name)
			}
		}
	default:
		t.Fatalf("%s: fill does not know kind %s", path, v.Kind())
	}
}

// shared reports the first place where a and b share memory.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := 0; i < a.Len(); i++ {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"{}"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestCloneSharesNothing(t *testing.T) {
	var c Case
	fill(t, reflect.ValueOf(&c).Elem(), "Case")
	c.Attrs = map[string]json.RawMessage{"form": json.RawMessage(`{"a":1}`)}
	c.Derived = &Derived{}
	cp := c.Clone()
	if cp.Derived != nil {
		t.Error("Derived was copied; it is never stored")
	}
	c.Derived, cp.Derived = nil, nil
	if !reflect.DeepEqual(&c, cp) {
		t.Fatalf("clone differs from the original:\n%+v\n%+v", c, *cp)
	}
	if p := shared(reflect.ValueOf(&c).Elem(), reflect.ValueOf(cp).Elem(), "Case"); p != "" {
		t.Fatalf("clone shares memory with the original at %s: copy it in Clone", p)
	}
	var nilCase *Case
	if nilCase.Clone() != nil {
		t.Error("nil clone")
	}
}
