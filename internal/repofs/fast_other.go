//go:build !linux

package repofs

// Elsewhere the fs.FS path serves; the directory-relative reads are Linux's.
const fastReads = false

func readFilesAt(root, dir string, want func(name string) bool) (*Listing, error) {
	return readFilesFS(Dir(root).dir, dir, want)
}
