package symbol

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Location is a source line.
type Location struct {
	// File is the source file as the module's build named it (absolute);
	// Line its line.
	File string
	Line int
	// Func is the function holding the address (LookupAddr).
	Func string
}

func (l Location) String() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

// ErrNoDebugInfo: the module has no DWARF (built without -g).
var ErrNoDebugInfo = errors.New("the module has no debug info (built without -g, or stripped): no source line")

// Table symbolizes the frames of a test's modules, and of the kernel
// itself when it was built with debug info (SetKernel).
type Table struct {
	kos  map[string]string // module name (as the kernel spells it) -> .ko; "" is vmlinux
	mu   sync.Mutex
	mods map[string]*module
}

// SetKernel adds the kernel's vmlinux, for frames outside modules, when it
// has debug info (CONFIG_DEBUG_INFO); it reports whether it had. The
// DWARF is read at the first lookup of a kernel frame.
func (t *Table) SetKernel(vmlinux string) bool {
	f, err := elf.Open(vmlinux)
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC || f.Section(".debug_info") == nil {
		return false
	}
	t.mu.Lock()
	t.kos[""] = vmlinux
	t.mu.Unlock()
	return true
}

// HasKernel reports whether kernel frames can be symbolized (SetKernel).
func (t *Table) HasKernel() bool { return t.Has("") }

// NewTable makes the table of the modules kos (file name without .ko ->
// its path).
func NewTable(kos map[string]string) *Table {
	t := &Table{kos: map[string]string{}, mods: map[string]*module{}}
	for name, ko := range kos {
		t.kos[kernelName(name)] = ko
	}
	return t
}

// kernelName is a module's name as the kernel prints it: hello-1.ko is
// [hello_1].
func kernelName(name string) string { return strings.ReplaceAll(name, "-", "_") }

// Has reports whether mod is one of the table's modules.
func (t *Table) Has(mod string) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.kos[kernelName(mod)]
	return ok
}

// Lookup finds the source line of fn+off in module mod ("" for the kernel
// itself, see SetKernel). ret says off is a return address (a call
// trace's frame): the line is then the call's.
func (t *Table) Lookup(mod, fn string, off uint64, ret bool) (Location, error) {
	if t == nil {
		return Location{}, fmt.Errorf("no module table")
	}
	m, err := t.module(kernelName(mod))
	if err != nil {
		return Location{}, err
	}
	return m.lookup(fn, off, ret)
}

func (t *Table) module(name string) (*module, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m, ok := t.mods[name]; ok {
		return m, m.err
	}
	ko, ok := t.kos[name]
	if !ok {
		return nil, fmt.Errorf("module %s is not one of the test's", name)
	}
	var m *module
	if name == "" {
		m = openExecutable(ko)
	} else {
		m = openModule(ko)
	}
	t.mods[name] = m
	return m, m.err
}

// module is one opened .ko (or vmlinux).
type module struct {
	path      string
	err       error
	syms      map[string]elf.Symbol // function symbols by name, values placed
	d         *dwarf.Data
	code      map[string]section // code sections by name
	loads     map[string]uint64  // where the guest put them (SetLoaded)
	units     []unit             // the compile units' address ranges, read at the first lookup
	unitsOnce sync.Once
}

// unit is an address range of a compile unit.
type unit struct {
	lo, hi uint64
	cu     *dwarf.Entry
}

// openExecutable opens a linked image (vmlinux): its addresses are final,
// and its sections are read as needed rather than all at once.
func openExecutable(path string) *module {
	m := &module{path: path}
	f, err := elf.Open(path)
	if err != nil {
		m.err = err
		return m
	}
	defer f.Close()
	if f.Section(".debug_info") == nil {
		m.err = fmt.Errorf("%s: %w", filepath.Base(path), ErrNoDebugInfo)
		return m
	}
	if m.d, err = f.DWARF(); err != nil {
		m.err = fmt.Errorf("%s: DWARF: %w", path, err)
		return m
	}
	syms, err := f.Symbols()
	if err != nil {
		m.err = fmt.Errorf("%s: %w", path, err)
		return m
	}
	m.syms = map[string]elf.Symbol{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			m.syms[s.Name] = s
		}
	}
	return m
}

// section is a code section of a .ko.
type section struct {
	index elf.SectionIndex
	size  uint64
}

// sectionBase is where code section i is placed: far apart, so that the
// sections' addresses never meet.
func sectionBase(i elf.SectionIndex) uint64 { return uint64(i) << 32 }

func openModule(path string) *module {
	m := &module{path: path}
	b, err := os.ReadFile(path)
	if err != nil {
		m.err = err
		return m
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		m.err = fmt.Errorf("%s: %w", path, err)
		return m
	}
	if f.Section(".debug_info") == nil {
		m.err = fmt.Errorf("%s: %w", filepath.Base(path), ErrNoDebugInfo)
		return m
	}
	placed, syms, err := place(b, f)
	if err != nil {
		m.err = fmt.Errorf("%s: %w", path, err)
		return m
	}
	pf, err := elf.NewFile(bytes.NewReader(placed))
	if err != nil {
		m.err = fmt.Errorf("%s: %w", path, err)
		return m
	}
	if m.d, err = pf.DWARF(); err != nil {
		m.err = fmt.Errorf("%s: DWARF: %w", path, err)
		return m
	}
	m.syms = syms
	m.code = map[string]section{}
	for i, sec := range f.Sections {
		if sec.Flags&elf.SHF_EXECINSTR != 0 && sec.Flags&elf.SHF_ALLOC != 0 {
			m.code[sec.Name] = section{elf.SectionIndex(i), sec.Size}
		}
	}
	return m
}

// CodeSections are the names of mod's code sections (.text, .init.text...),
// whose load addresses SetLoaded takes.
func (t *Table) CodeSections(mod string) []string {
	m, err := t.module(kernelName(mod))
	if err != nil {
		return nil
	}
	var out []string
	for name := range m.code {
		out = append(out, name)
	}
	return out
}

// SetLoaded records where the guest loaded mod's sections (from
// /sys/module/MOD/sections), so that an address of a report that comes
// after rmmod (kmemleak's) still finds its module and line.
func (t *Table) SetLoaded(mod string, addrs map[string]uint64) {
	m, err := t.module(kernelName(mod))
	if err != nil {
		return
	}
	t.mu.Lock()
	m.loads = addrs
	t.mu.Unlock()
}

// LookupAddr finds the module and source line of a guest address in a
// loaded (or since unloaded) module of the table; ret as for Lookup.
func (t *Table) LookupAddr(addr uint64, ret bool) (mod string, loc Location, err error) {
	if t == nil {
		return "", Location{}, fmt.Errorf("no module table")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, m := range t.mods {
		for sec, base := range m.loads {
			cs, ok := m.code[sec]
			if !ok || addr < base || addr >= base+cs.size {
				continue
			}
			at := sectionBase(cs.index) + addr - base
			pc := at
			if ret && pc > 0 {
				pc--
			}
			loc, err := m.line(pc)
			loc.Func = m.funcAt(at)
			return name, loc, err
		}
	}
	return "", Location{}, fmt.Errorf("address %#x is in none of the test's modules", addr)
}

// place rewrites the symbol table of the object b so that every symbol of
// a code section has the address sectionBase(section) + its offset: the
// relocations debug/elf applies to the DWARF then give each section its
// own addresses. It returns the rewritten object and the function symbols.
func place(b []byte, f *elf.File) ([]byte, map[string]elf.Symbol, error) {
	if f.Class != elf.ELFCLASS64 {
		return nil, nil, fmt.Errorf("only 64-bit modules are supported")
	}
	symtab := f.Section(".symtab")
	if symtab == nil {
		return nil, nil, fmt.Errorf("no symbol table")
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, err
	}
	code := func(i elf.SectionIndex) bool {
		return int(i) > 0 && int(i) < len(f.Sections) && f.Sections[i].Flags&elf.SHF_EXECINSTR != 0
	}
	out := append([]byte(nil), b...)
	funcs := map[string]elf.Symbol{}
	const entSize = 24 // Elf64_Sym
	for k, s := range syms {
		if !code(s.Section) {
			continue
		}
		s.Value += sectionBase(s.Section)
		// Symbols() leaves out the null symbol: entry k+1 of the table.
		at := symtab.Offset + uint64(k+1)*entSize + 8
		if at+8 > uint64(len(out)) {
			return nil, nil, fmt.Errorf("symbol table out of bounds")
		}
		f.ByteOrder.PutUint64(out[at:at+8], s.Value)
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			funcs[s.Name] = s
		}
	}
	return out, funcs, nil
}

// funcAt names the function holding the placed address at: the closest
// start, and of aliases at one address (module_init's init_module) the
// function's own name.
func (m *module) funcAt(at uint64) string {
	best := ""
	var start uint64
	for fn, s := range m.syms {
		if s.Value > at || at >= s.Value+s.Size {
			continue
		}
		better := best == "" || s.Value > start ||
			s.Value == start && (isAlias(best) && !isAlias(fn) || isAlias(best) == isAlias(fn) && fn < best)
		if better {
			best, start = fn, s.Value
		}
	}
	return best
}

// isAlias reports the names module_init and module_exit give a module's
// init and exit functions.
func isAlias(fn string) bool { return fn == "init_module" || fn == "cleanup_module" }

func (m *module) lookup(fn string, off uint64, ret bool) (Location, error) {
	s, ok := m.syms[fn]
	if !ok {
		return Location{}, fmt.Errorf("%s has no function %s", filepath.Base(m.path), fn)
	}
	pc := s.Value + off
	if ret && off > 0 {
		pc-- // inside the call instruction, not after it
	}
	loc, err := m.line(pc)
	if err != nil {
		return loc, fmt.Errorf("%s+%#x: %w", fn, off, err)
	}
	return loc, nil
}

// line is the source line of the placed address pc.
func (m *module) line(pc uint64) (Location, error) {
	for _, u := range m.unitsAt(pc) {
		cu := u.cu
		lr, err := m.d.LineReader(cu)
		if err != nil || lr == nil {
			continue
		}
		var e dwarf.LineEntry
		if err := lr.SeekPC(pc, &e); err != nil {
			continue
		}
		if e.File == nil {
			continue
		}
		file, line := e.File, e.Line
		if f, l, ok := m.callSite(cu, pc, lr.Files()); ok {
			file, line = f, l
		}
		name := file.Name
		if dir, _ := cu.Val(dwarf.AttrCompDir).(string); !filepath.IsAbs(name) && dir != "" {
			name = filepath.Join(dir, name)
		}
		return Location{File: name, Line: line}, nil
	}
	return Location{}, fmt.Errorf("no line in %s", filepath.Base(m.path))
}

// unitsAt returns the compile units whose ranges hold pc. The ranges of
// every unit are read once (vmlinux has thousands of units).
func (m *module) unitsAt(pc uint64) []unit {
	m.unitsOnce.Do(func() {
		r := m.d.Reader()
		for {
			cu, err := r.Next()
			if err != nil || cu == nil {
				break
			}
			if cu.Tag == dwarf.TagCompileUnit {
				rs, _ := m.d.Ranges(cu)
				for _, rg := range rs {
					m.units = append(m.units, unit{rg[0], rg[1], cu})
				}
			}
			r.SkipChildren()
		}
	})
	var out []unit
	for _, u := range m.units {
		if pc >= u.lo && pc < u.hi {
			out = append(out, u)
		}
	}
	return out
}

// callSite is, when pc is in code the compiler inlined into the function
// (kmalloc() from slab.h), the line of the function's own source that
// called it: the call site of the outermost inlined subroutine holding
// pc. A frame "membugs_poison+0x17" then names a line of membugs_poison,
// not of the header.
func (m *module) callSite(cu *dwarf.Entry, pc uint64, files []*dwarf.LineFile) (*dwarf.LineFile, int, bool) {
	r := m.d.Reader()
	r.Seek(cu.Offset)
	if _, err := r.Next(); err != nil { // the unit itself
		return nil, 0, false
	}
	for {
		e, err := r.Next()
		if err != nil || e == nil || e.Tag == dwarf.TagCompileUnit {
			return nil, 0, false
		}
		if e.Tag != dwarf.TagInlinedSubroutine {
			continue
		}
		// In depth-first order the first inlined subroutine holding pc
		// is the outermost: its parents come before it, and siblings do
		// not overlap.
		if rs, err := m.d.Ranges(e); err != nil || !inRanges(rs, pc) {
			continue
		}
		idx, ok1 := e.Val(dwarf.AttrCallFile).(int64)
		line, ok2 := e.Val(dwarf.AttrCallLine).(int64)
		if !ok1 || !ok2 || idx < 0 || int(idx) >= len(files) || files[idx] == nil {
			return nil, 0, false
		}
		return files[idx], int(line), true
	}
}

func inRanges(rs [][2]uint64, pc uint64) bool {
	for _, r := range rs {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}
