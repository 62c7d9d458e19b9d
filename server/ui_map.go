package server

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/tongban/tongban/demo/corpus"
)

// districtMap is the district drawn as SVG for the location picker: the
// street areas from corpus.DistrictGeoJSON projected server-side into a
// fixed viewBox, so no map tiles or internet are needed.
type districtMap struct {
	Width, Height int
	Streets       []mapArea
	Outline       string
	// The projection, for the script to invert a click: x = (long-MinLong)*KX,
	// y = (MaxLat-lat)*KY.
	MinLong, MaxLat, KX, KY float64
}

type mapArea struct {
	Name, Code string
	Points     string
	LabelX     float64
	LabelY     float64
}

var theMap = buildMap()

func buildMap() *districtMap {
	var fc struct {
		Features []struct {
			Properties map[string]string `json:"properties"`
			Geometry   struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(corpus.DistrictGeoJSON(), &fc); err != nil {
		panic(err)
	}
	minLat, minLong, maxLat, maxLong := corpus.Bounds()
	// Equirectangular projection with the longitude scaled by cos(latitude),
	// which is exact enough for a district ten kilometres across.
	const width = 600.0
	kx := width / (maxLong - minLong)
	ky := kx / math.Cos((minLat+maxLat)/2*math.Pi/180)
	m := &districtMap{Width: int(width), Height: int(math.Ceil((maxLat - minLat) * ky)), MinLong: minLong, MaxLat: maxLat, KX: kx, KY: ky}
	for _, f := range fc.Features {
		if len(f.Geometry.Coordinates) == 0 {
			continue
		}
		ring := f.Geometry.Coordinates[0]
		var b strings.Builder
		var cx, cy float64
		for i, p := range ring {
			x, y := (p[0]-minLong)*kx, (maxLat-p[1])*ky
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x, y)
			if i < len(ring)-1 {
				cx += x / float64(len(ring)-1)
				cy += y / float64(len(ring)-1)
			}
		}
		if f.Properties["kind"] == "district" {
			m.Outline = b.String()
			continue
		}
		m.Streets = append(m.Streets, mapArea{Name: f.Properties["name"], Code: f.Properties["code"], Points: b.String(), LabelX: cx, LabelY: cy})
	}
	return m
}
