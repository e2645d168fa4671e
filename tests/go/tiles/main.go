// Command tiles checks regledger's C2SP tiles with Go's own
// golang.org/x/mod/sumdb/tlog: it reads the tiles and entry bundles that
// regledger wrote into a directory through a tlog.TileReader over files,
// proves inclusion and consistency with tlog.TileHashReader against a tree
// size and root, checks every entry bundle against the level-0 hashes, and
// prints tlog's own tile paths and path parsing verdicts for comparison.
// One JSON request on stdin, one JSON response on stdout
// (see tests/tiles/go_tiles_test.ts).
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type treeReq struct {
	Dir         string  `json:"dir"`
	Size        int64   `json:"size"`
	Root        string  `json:"root"`
	Inclusion   []int64 `json:"inclusion"`
	Consistency []int64 `json:"consistency"`
	Audit       bool    `json:"audit"`
}

type request struct {
	Trees     []treeReq  `json:"trees"`
	PathSizes []int64    `json:"path_sizes"`
	Growth    [][2]int64 `json:"growth"`
	Parse     []string   `json:"parse"`
}

type proofRes struct {
	N     int64    `json:"n"`
	Proof []string `json:"proof"`
	Root  string   `json:"root,omitempty"`
	Err   string   `json:"err"`
}

type treeRes struct {
	Err         string     `json:"err"`
	Inclusion   []proofRes `json:"inclusion"`
	Consistency []proofRes `json:"consistency"`
	Audited     int64      `json:"audited"`
	TilesRead   int        `json:"tiles_read"`
}

type parseRes struct {
	OK    bool   `json:"ok"`
	Level int    `json:"level"`
	N     int64  `json:"n"`
	W     int    `json:"w"`
	Err   string `json:"err"`
}

type response struct {
	Trees       []treeRes           `json:"trees"`
	Paths       map[string][]string `json:"paths"`
	EntryPaths  map[string][]string `json:"entry_paths"`
	GrowthPaths []([]string)        `json:"growth_paths"`
	Parse       []parseRes          `json:"parse"`
}

// c2spPath turns tlog's tile path (tile/8/L/N, tile/8/data/N) into the
// C2SP one (tile/L/N, tile/entries/N): C2SP fixes the height at 8.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	p = strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

// goPath is the inverse, for parsing a C2SP path with tlog.ParseTilePath.
func goPath(p string) string {
	if strings.HasPrefix(p, "tile/entries/") {
		return "tile/8/data/" + strings.TrimPrefix(p, "tile/entries/")
	}
	if strings.HasPrefix(p, "tile/") {
		return "tile/8/" + strings.TrimPrefix(p, "tile/")
	}
	return p
}

// fileTiles is a tlog.TileReader over C2SP tile paths under dir: a
// directory, or a log's URL prefix when dir starts with http:// (GET
// <prefix>/<path>, as a client of the tiled read API does).
type fileTiles struct {
	dir   string
	reads int
}

func (f *fileTiles) read(path string) ([]byte, error) {
	if !strings.HasPrefix(f.dir, "http://") {
		return os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(path)))
	}
	resp, err := http.Get(strings.TrimSuffix(f.dir, "/") + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

func (f *fileTiles) Height() int { return height }

func (f *fileTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := f.read(c2spPath(t))
		if err != nil {
			return nil, err
		}
		f.reads++
		out[i] = b
	}
	return out, nil
}

func (f *fileTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// decodeBundle reads an entry bundle as tlog-tiles defines it: big-endian
// uint16 length-prefixed entries, exactly want of them, nothing after.
func decodeBundle(b []byte, want int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	if len(out) != want {
		return nil, fmt.Errorf("bundle has %d entries, want %d", len(out), want)
	}
	return out, nil
}

// audit checks every entry of the tree: its bundle's leaf hashes to the
// level-0 hash that TileHashReader authenticated against the root.
func audit(tr *fileTiles, r tlog.HashReader, size int64) (int64, error) {
	for start := int64(0); start < size; start += 256 {
		w := size - start
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: height, L: -1, N: start / 256, W: int(w)}
		data, err := tr.ReadTiles([]tlog.Tile{t})
		if err != nil {
			return start, err
		}
		leaves, err := decodeBundle(data[0], int(w))
		if err != nil {
			return start, fmt.Errorf("%s: %v", c2spPath(t), err)
		}
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		hs, err := r.ReadHashes(idx)
		if err != nil {
			return start, err
		}
		for i, leaf := range leaves {
			if tlog.RecordHash(leaf) != hs[i] {
				return start + int64(i), fmt.Errorf("entry %d does not match its level-0 hash", start+int64(i))
			}
		}
	}
	return size, nil
}

func checkTree(req treeReq) treeRes {
	var res treeRes
	rootBytes, err := base64.StdEncoding.DecodeString(req.Root)
	if err != nil || len(rootBytes) != tlog.HashSize {
		res.Err = "bad root"
		return res
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tr := &fileTiles{dir: req.Dir}
	r := tlog.TileHashReader(tlog.Tree{N: req.Size, Hash: root}, tr)
	th, err := tlog.TreeHash(req.Size, r)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	if th != root {
		res.Err = "tree hash from tiles differs from the root"
		return res
	}
	for _, n := range req.Inclusion {
		pr := proofRes{N: n}
		p, err := tlog.ProveRecord(req.Size, n, r)
		if err == nil {
			pr.Proof = b64s(p)
			var hs []tlog.Hash
			hs, err = r.ReadHashes([]int64{tlog.StoredHashIndex(0, n)})
			if err == nil {
				err = tlog.CheckRecord(p, req.Size, root, n, hs[0])
			}
		}
		pr.Err = errString(err)
		res.Inclusion = append(res.Inclusion, pr)
	}
	for _, old := range req.Consistency {
		pr := proofRes{N: old}
		oldRoot, err := tlog.TreeHash(old, r)
		if err == nil {
			pr.Root = b64(oldRoot)
			var p tlog.TreeProof
			p, err = tlog.ProveTree(req.Size, old, r)
			if err == nil {
				pr.Proof = b64s(p)
				err = tlog.CheckTree(p, req.Size, root, old, oldRoot)
			}
		}
		pr.Err = errString(err)
		res.Consistency = append(res.Consistency, pr)
	}
	if req.Audit {
		res.Audited, err = audit(tr, r, req.Size)
		if err != nil {
			res.Err = err.Error()
		}
	}
	res.TilesRead = tr.reads
	return res
}

// treeTiles lists the tiles a tree of the given size has with tlog's own
// NewTiles: every full tile and, per level, the widest partial tile.
func treeTiles(old, size int64) []tlog.Tile {
	all := tlog.NewTiles(height, old, size)
	widest := map[[2]int64]int{}
	for _, t := range all {
		k := [2]int64{int64(t.L), t.N}
		if t.W > widest[k] {
			widest[k] = t.W
		}
	}
	var out []tlog.Tile
	for _, t := range all {
		if t.W == widest[[2]int64{int64(t.L), t.N}] {
			out = append(out, t)
		}
	}
	return out
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	res := response{Paths: map[string][]string{}, EntryPaths: map[string][]string{}}
	for _, t := range req.Trees {
		res.Trees = append(res.Trees, checkTree(t))
	}
	for _, size := range req.PathSizes {
		key := fmt.Sprint(size)
		res.Paths[key] = []string{}
		res.EntryPaths[key] = []string{}
		for _, t := range treeTiles(0, size) {
			res.Paths[key] = append(res.Paths[key], t.Path())
			if t.L == 0 {
				d := t
				d.L = -1
				res.EntryPaths[key] = append(res.EntryPaths[key], d.Path())
			}
		}
	}
	for _, g := range req.Growth {
		paths := []string{}
		for _, t := range treeTiles(g[0], g[1]) {
			paths = append(paths, t.Path())
		}
		res.GrowthPaths = append(res.GrowthPaths, paths)
	}
	for _, p := range req.Parse {
		t, err := tlog.ParseTilePath(goPath(p))
		pr := parseRes{OK: err == nil, Err: errString(err)}
		if err == nil {
			pr.Level, pr.N, pr.W = t.L, t.N, t.W
		}
		res.Parse = append(res.Parse, pr)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(1)
	}
}
