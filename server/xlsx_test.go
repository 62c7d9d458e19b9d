package server

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestColName(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := colName(i); got != want {
			t.Errorf("colName(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestExportTable(t *testing.T) {
	rate := 0.875
	tb := &table{Name: "部门排名/2026", Headers: []string{"部门", "受理", "按时办结率", "备注"},
		Rows: [][]any{{"城管执法局", 12, &rate, "含<特殊>&字符\x01"}, {"住建局", int64(3), (*float64)(nil), nil}}}

	var c bytes.Buffer
	if err := writeCSV(&c, tb); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(c.Bytes(), []byte("\xEF\xBB\xBF")) {
		t.Fatal("CSV lacks the UTF-8 byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(c.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "部门" || recs[1][1] != "12" || recs[1][2] != "0.875" || recs[2][2] != "" {
		t.Fatalf("CSV records %q", recs)
	}

	var x bytes.Buffer
	if err := writeXLSX(&x, tb); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(x.Bytes()), int64(x.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		files[f.Name] = string(b)
		var any struct{}
		if strings.HasSuffix(f.Name, ".xml") || strings.HasSuffix(f.Name, ".rels") {
			if err := xml.Unmarshal(b, &any); err != nil {
				t.Errorf("%s is not well-formed XML: %v", f.Name, err)
			}
		}
	}
	for _, n := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/styles.xml"} {
		if _, ok := files[n]; !ok {
			t.Errorf("workbook lacks %s", n)
		}
	}
	sheet := files["xl/worksheets/sheet1.xml"]
	for _, want := range []string{`<c r="B2"><v>12</v></c>`, `<c r="C2"><v>0.875</v></c>`, "城管执法局", "含&lt;特殊&gt;&amp;字符<", `<c r="B3"><v>3</v></c>`} {
		if !strings.Contains(sheet, want) {
			t.Errorf("sheet lacks %q:\n%s", want, sheet)
		}
	}
	if strings.Contains(sheet, "C3") {
		t.Error("a nil rate became a cell")
	}
	if !strings.Contains(files["xl/workbook.xml"], `name="部门排名_2026"`) {
		t.Errorf("sheet name: %s", files["xl/workbook.xml"])
	}
}
