package repofs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

const fastReads = true

// localMagic are the statfs types of local file systems (ext2/3/4, xfs, btrfs,
// tmpfs, overlayfs and f2fs), whose reads and directory listings stop short only at
// the end; there one system call per file and per directory can be saved. Network
// and FUSE file systems may stop short anywhere, so there reads go on until zero.
var localMagic = map[int64]bool{0xEF53: true, 0x58465342: true, 0x9123683E: true, 0x01021994: true, 0x794C7630: true, 0xF2F52010: true}

// shortMeansEnd asks the file system of an open directory, not the repository's
// root: a directory inside the repository may be a mount of another kind.
func shortMeansEnd(dfd int) bool {
	if !trustShortEnds {
		return false
	}
	var st unix.Statfs_t
	return unix.Fstatfs(dfd, &st) == nil && localMagic[int64(st.Type)]
}

var (
	direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	readBufs   = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

// readFilesAt opens the directory once, lists it with getdents64 and opens each
// wanted file relative to it: no per-file path lookup, no poller registration, no
// fstat (the file is read until end of file instead of to a stated size).
func readFilesAt(root, dir string, want func(name string) bool) (*Listing, error) {
	full := osPath(root, dir)
	dfd, err := retry(func() (int, error) {
		return unix.Open(full, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: err}
	}
	defer unix.Close(dfd)
	exact := shortMeansEnd(dfd)
	entries, err := listAt(dfd, full, exact)
	if err != nil {
		return nil, err
	}
	l := &Listing{Entries: entries, Data: make([][]byte, len(entries))}
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for i, e := range entries {
		if !e.Type().IsRegular() || !want(e.Name()) {
			continue
		}
		src, err := readAt(dfd, e.Name(), bp, exact)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: filepath.Join(full, e.Name()), Err: err}
		}
		l.Data[i] = src
	}
	return l, nil
}

// listAt reads the entries of an open directory until getdents64 reports the end,
// or, when exact, until it leaves room for the longest entry (it fills what it can).
func listAt(dfd int, full string, exact bool) ([]fs.DirEntry, error) {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	ents := make([]dirent, 0, 8) // one allocation for the entries, not one each
	for {
		n, err := retry(func() (int, error) { return unix.Getdents(dfd, buf) })
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: full, Err: err}
		}
		if n <= 0 {
			break
		}
		chunk := string(buf[:n]) // one allocation for the names of this call, not one each
		for off := 0; off < n; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			if off+19 > n {
				return nil, &fs.PathError{Op: "readdirent", Path: full, Err: errors.New("short directory entry")}
			}
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			if reclen < 20 || off+reclen > n {
				return nil, &fs.PathError{Op: "readdirent", Path: full, Err: errors.New("bad directory entry length")}
			}
			typ := buf[off+18]
			name := chunk[off+19 : off+reclen]
			if i := strings.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if name == "." || name == ".." || name == "" {
				continue
			}
			e := dirent{name: name, dir: full}
			if typ == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if err := unix.Fstatat(dfd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
					if errors.Is(err, unix.ENOENT) {
						continue
					}
					return nil, &fs.PathError{Op: "lstat", Path: filepath.Join(full, e.name), Err: err}
				}
				e.typ = modeOf(uint32(st.Mode) & unix.S_IFMT)
			} else {
				e.typ = typeOf(typ)
			}
			ents = append(ents, e)
		}
		if exact && n <= len(buf)-maxDirent {
			break
		}
	}
	out := make([]fs.DirEntry, len(ents))
	for i := range ents {
		out[i] = &ents[i]
	}
	sortEntries(out)
	return out, nil
}

// maxDirent is the longest linux_dirent64: a 255-byte name, its NUL and the
// 19-byte header, aligned to 8.
const maxDirent = 280

// readAt reads a file of an open directory to its end through the scratch buffer;
// when exact, a read that does not fill the buffer is the end.
func readAt(dfd int, name string, bp *[]byte, exact bool) ([]byte, error) {
	fd, err := openAt(dfd, name, (*bp)[:0])
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := *bp
	total := 0
	for {
		if total == len(buf) {
			// A file larger than the scratch buffer: size it once instead of doubling.
			var st unix.Stat_t
			grow := len(buf)
			if unix.Fstat(fd, &st) == nil && int(st.Size) >= total {
				grow = int(st.Size) - total + 512 // room to see the end in one read
			}
			bigger := make([]byte, total+grow)
			copy(bigger, buf[:total])
			buf = bigger
		}
		n, err := retry(func() (int, error) { return unix.Read(fd, buf[total:]) })
		if err != nil {
			return nil, err
		}
		if n == 0 || exact && total+n < len(buf) {
			total += n
			if &buf[0] != &(*bp)[0] {
				return buf[:total:total], nil // already a copy of its own
			}
			return cloneRead(buf[:total]), nil
		}
		total += n
	}
}

// openAt opens a file of an open directory for reading. It builds the C string in
// scratch (the read buffer, not yet used) instead of allocating one as unix.Openat
// does: discovery opens tens of thousands of files.
func openAt(dfd int, name string, scratch []byte) (int, error) {
	cname := append(append(scratch, name...), 0)
	if strings.IndexByte(name, 0) >= 0 {
		return -1, unix.EINVAL
	}
	return retry(func() (int, error) {
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dfd), uintptr(unsafe.Pointer(&cname[0])),
			uintptr(unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW), 0, 0, 0)
		if errno != 0 {
			return -1, errno
		}
		return int(fd), nil
	})
}

func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// typeOf maps a dirent's d_type, which Linux defines as the S_IFMT bits shifted
// right by 12, to the file mode's type bits.
func typeOf(t uint8) fs.FileMode { return modeOf(uint32(t) << 12) }

func modeOf(ifmt uint32) fs.FileMode {
	switch ifmt {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}

// dirent is an entry as getdents64 gave it; Info asks the file system, as
// os.ReadDir's entries do.
type dirent struct {
	name, dir string
	typ       fs.FileMode
}

func (d *dirent) Name() string               { return d.name }
func (d *dirent) IsDir() bool                { return d.typ.IsDir() }
func (d *dirent) Type() fs.FileMode          { return d.typ }
func (d *dirent) Info() (fs.FileInfo, error) { return os.Lstat(filepath.Join(d.dir, d.name)) }
func (d *dirent) String() string             { return fs.FormatDirEntry(d) }
