package corpus

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
)

// The district box: about 10.0 km north–south and 9.6 km east–west.
const (
	minLat  = 30.520
	maxLat  = 30.610
	minLong = 103.880
	maxLong = 103.980
	cols    = 4
	rows    = 2
)

// Bounds returns the district's bounding box.
func Bounds() (minLatOut, minLongOut, maxLatOut, maxLongOut float64) {
	return minLat, minLong, maxLat, maxLong
}

// point is [long, lat], GeoJSON order.
type point [2]float64

// jitter of interior grid vertices, as fractions of a cell; fixed so that
// the street boundaries look hand-drawn but never change.
var gridJitter = [cols + 1][rows + 1][2]float64{
	{{0, 0}, {0, 0.12}, {0, 0}},
	{{0.18, 0}, {-0.15, 0.20}, {-0.10, 0}},
	{{-0.12, 0}, {0.20, -0.16}, {0.15, 0}},
	{{0.10, 0}, {-0.18, 0.10}, {-0.14, 0}},
	{{0, 0}, {0, -0.15}, {0, 0}},
}

func gridPoint(i, j int) point {
	cw := (maxLong - minLong) / cols
	ch := (maxLat - minLat) / rows
	x := minLong + float64(i)*cw + gridJitter[i][j][0]*cw
	y := minLat + float64(j)*ch + gridJitter[i][j][1]*ch
	return point{x, y}
}

// cellRing returns the closed, counter-clockwise ring of a street cell.
func cellRing(col, row int) []point {
	return []point{
		gridPoint(col, row), gridPoint(col+1, row),
		gridPoint(col+1, row+1), gridPoint(col, row+1),
		gridPoint(col, row),
	}
}

// outlineRing returns the district outline, including every grid vertex
// on the box edges so that the street cells tile it exactly.
func outlineRing() []point {
	var r []point
	for i := 0; i <= cols; i++ { // south edge, west→east
		r = append(r, gridPoint(i, 0))
	}
	for j := 1; j <= rows; j++ { // east edge, south→north
		r = append(r, gridPoint(cols, j))
	}
	for i := cols - 1; i >= 0; i-- { // north edge, east→west
		r = append(r, gridPoint(i, rows))
	}
	for j := rows - 1; j >= 0; j-- { // west edge, north→south
		r = append(r, gridPoint(0, j))
	}
	return r
}

func inRing(p point, ring []point) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi := ring[i][0], ring[i][1]
		xj, yj := ring[j][0], ring[j][1]
		if (yi > p[1]) != (yj > p[1]) && p[0] < (xj-xi)*(p[1]-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// StreetAt returns the code of the street office whose area contains the
// point, or "" if it lies outside the district.
func StreetAt(lat, long float64) string {
	p := point{long, lat}
	for i := range streets {
		if inRing(p, cellRing(streets[i].col, streets[i].row)) {
			return streets[i].code
		}
	}
	return ""
}

func ringBox(ring []point) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = ring[0][0], ring[0][1], ring[0][0], ring[0][1]
	for _, p := range ring {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
	}
	return
}

// anchor returns a stable point for a named place inside its street's area,
// kept away from the edges so that jittered points usually stay inside.
func anchor(s *street, place string) point {
	h := fnv.New64a()
	h.Write([]byte(place))
	r := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
	ring := cellRing(s.col, s.row)
	x0, y0, x1, y1 := ringBox(ring)
	for range 1000 {
		p := point{x0 + (x1-x0)*(0.1+0.8*r.Float64()), y0 + (y1-y0)*(0.1+0.8*r.Float64())}
		if inRing(p, ring) && inRing(point{p[0] + 0.002, p[1]}, ring) && inRing(point{p[0] - 0.002, p[1]}, ring) &&
			inRing(point{p[0], p[1] + 0.002}, ring) && inRing(point{p[0], p[1] - 0.002}, ring) {
			return p
		}
	}
	return centroid(ring)
}

func centroid(ring []point) point {
	var c point
	n := len(ring) - 1
	for _, p := range ring[:n] {
		c[0] += p[0] / float64(n)
		c[1] += p[1] / float64(n)
	}
	return c
}

type geoFeature struct {
	Type       string            `json:"type"`
	Properties map[string]string `json:"properties"`
	Geometry   geoGeometry       `json:"geometry"`
}

type geoGeometry struct {
	Type        string    `json:"type"`
	Coordinates [][]point `json:"coordinates"`
}

type geoCollection struct {
	Type     string       `json:"type"`
	Name     string       `json:"name"`
	BBox     [4]float64   `json:"bbox"`
	Features []geoFeature `json:"features"`
}

// DistrictGeoJSON returns a GeoJSON FeatureCollection: first the district
// outline (properties kind=district), then one polygon per street office
// (properties name = street name, code = department code, kind = street).
func DistrictGeoJSON() []byte {
	fc := geoCollection{
		Type: "FeatureCollection",
		Name: districtName,
		BBox: [4]float64{minLong, minLat, maxLong, maxLat},
	}
	fc.Features = append(fc.Features, geoFeature{
		Type:       "Feature",
		Properties: map[string]string{"name": districtName, "code": "district", "kind": "district"},
		Geometry:   geoGeometry{Type: "Polygon", Coordinates: [][]point{outlineRing()}},
	})
	for i := range streets {
		s := &streets[i]
		fc.Features = append(fc.Features, geoFeature{
			Type:       "Feature",
			Properties: map[string]string{"name": s.name(), "code": s.code, "kind": "street", "dept": s.deptName()},
			Geometry:   geoGeometry{Type: "Polygon", Coordinates: [][]point{cellRing(s.col, s.row)}},
		})
	}
	b, err := json.MarshalIndent(fc, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}
