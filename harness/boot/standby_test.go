package boot

import (
	"os"
	"path/filepath"
	"testing"
)

// A standby's directory has a name anyone can guess: only a private
// directory of this user is trusted.
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	good, open, file, link := filepath.Join(base, "good"), filepath.Join(base, "open"), filepath.Join(base, "file"), filepath.Join(base, "link")
	os.Mkdir(good, 0o700)
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	os.WriteFile(file, nil, 0o600)
	os.Symlink(good, link)
	if err := privateDir(good); err != nil {
		t.Errorf("private directory refused: %v", err)
	}
	for _, bad := range []string{open, file, link, filepath.Join(base, "missing")} {
		if privateDir(bad) == nil {
			t.Errorf("%s accepted", filepath.Base(bad))
		}
	}
}
