package supervise

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOverridesDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervision.json")
	data := `{"categories": {"water": {"warn_workdays": 1, "warn_fraction": 0.5, "red_after_workdays": 1, "order_workdays": 2}}, "max_returns": 3}`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if th := cfg.For("water"); th.WarnFraction != 0.5 || th.RedAfterWorkdays != 1 || th.OrderWorkdays != 2 {
		t.Fatalf("water thresholds %+v", th)
	}
	if th := cfg.For("noise"); th != Default().Default {
		t.Fatalf("other categories keep the defaults, got %+v", th)
	}
	if cfg.RectifyWorkdays != 5 || cfg.BackdateWorkdays != 1 {
		t.Fatalf("rectify %d backdate %d, want the defaults 5 and 1", cfg.RectifyWorkdays, cfg.BackdateWorkdays)
	}
	if cfg.MaxReturns != 3 || cfg.CallbackWorkdays != Default().CallbackWorkdays {
		t.Fatalf("top-level settings: max_returns %d callback %d", cfg.MaxReturns, cfg.CallbackWorkdays)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("a missing file must be an error")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"max_returns": "three"}`), 0o600)
	if _, err := Load(bad); err == nil {
		t.Fatal("a malformed file must be an error")
	}
}

func TestLoadRatingSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervision.json")
	if err := os.WriteFile(path, []byte(`{"rectify_workdays": 10, "backdate_workdays": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RectifyWorkdays != 10 || cfg.BackdateWorkdays != 0 || cfg.CallbackWorkdays != 5 {
		t.Fatalf("rectify %d backdate %d callback %d", cfg.RectifyWorkdays, cfg.BackdateWorkdays, cfg.CallbackWorkdays)
	}
}
