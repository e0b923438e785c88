package kbuild

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/kver"
	"github.com/lkmtest/lkmtest/harness/progress"
)

// DefaultMirror is where kernel.org release tarballs are downloaded from;
// LKMTEST_KERNEL_MIRROR overrides it (same layout: v6.x/linux-6.6.60.tar.xz).
const DefaultMirror = "https://cdn.kernel.org/pub/linux/kernel"

// OldestRelease is the oldest kernel series lkmtest supports.
const OldestRelease = "5.4"

//go:embed kernelorg.sha256
var pinnedSums string

// PinnedSHA256 returns the pinned checksum of linux-<version>.tar.xz from
// kernelorg.sha256 (the format of kernel.org's sha256sums.asc), or "".
func PinnedSHA256(version string) string {
	want := "linux-" + version + ".tar.xz"
	sc := bufio.NewScanner(strings.NewReader(pinnedSums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") && f[1] == want {
			return f[0]
		}
	}
	return ""
}

// PinnedReleases lists the versions kernelorg.sha256 pins.
func PinnedReleases() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(pinnedSums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(f[1], "linux-"), ".tar.xz"))
		}
	}
	return out
}

var releaseRE = regexp.MustCompile(`^([1-9][0-9]*)\.([0-9]+)\.([0-9]+)$`)
var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsRelease reports whether v names a kernel.org release ("6.6.60").
func IsRelease(v string) bool { return releaseRE.MatchString(v) }

// ReleaseURL is the tarball URL of a release under mirror.
func ReleaseURL(mirror, version string) string {
	major := strings.SplitN(version, ".", 2)[0]
	return fmt.Sprintf("%s/v%s.x/linux-%s.tar.xz", strings.TrimRight(mirror, "/"), major, version)
}

// releaseSum checks that version names a supported release and returns the
// checksum its tarball must have: sum, else the pinned one.
func releaseSum(version, sum string) (string, error) {
	m := releaseRE.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("--kernel %q: not a kernel.org release (want X.Y.Z, e.g. 6.6.60)", version)
	}
	if kver.Compare(m[1]+"."+m[2], OldestRelease) < 0 {
		return "", fmt.Errorf("--kernel %s: kernels older than %s are not supported", version, OldestRelease)
	}
	sum = strings.ToLower(strings.TrimSpace(sum))
	if sum == "" {
		sum = PinnedSHA256(version)
	}
	if sum == "" {
		return "", fmt.Errorf("--kernel %s: no pinned sha256 for linux-%s.tar.xz (pinned: %s); pass --kernel-sha256 with its line from %s/v%s.x/sha256sums.asc",
			version, version, strings.Join(PinnedReleases(), ", "), DefaultMirror, m[1])
	}
	if !sha256RE.MatchString(sum) {
		return "", fmt.Errorf("--kernel-sha256 %q: want 64 hex digits", sum)
	}
	return sum, nil
}

// ResolveRelease downloads linux-<version>.tar.xz (once), verifies it
// against sum (or the pinned table when sum is ""), unpacks it (once) and
// returns the tree. A tarball that is truncated or does not match the
// checksum is refused and nothing of it stays in the cache.
func ResolveRelease(ctx context.Context, c *cache.Dir, version, sum, mirror string, log io.Writer) (*Source, error) {
	sum, err := releaseSum(version, sum)
	if err != nil {
		return nil, err
	}
	if mirror == "" {
		mirror = DefaultMirror
	}
	if err := checkScheme(mirror); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", version, err)
	}
	url := ReleaseURL(mirror, version)
	name := "linux-" + version + ".tar.xz"
	dir, _, err := c.Ensure(ctx, "downloads", cache.Key("tarball", sum), func(ctx context.Context, tmp string) error {
		return download(ctx, url, filepath.Join(tmp, name), sum, log)
	})
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", version, err)
	}
	src, err := unpackOnce(ctx, c, filepath.Join(dir, name), "kernel.org:"+name+":sha256:"+sum, log)
	if err != nil {
		return nil, err
	}
	if src.Version != version {
		return nil, fmt.Errorf("kernel %s: %s unpacks to a tree whose Makefile says %s", version, url, src.Version)
	}
	return src, nil
}

// checkScheme allows HTTPS, and plain HTTP only to a loopback address (a
// local mirror, as the tests use).
func checkScheme(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("kernel mirror %q: %w", rawURL, err)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("kernel mirror %q: lkmtest downloads only over HTTPS (plain http:// only to a loopback address); fix LKMTEST_KERNEL_MIRROR", rawURL)
}

// httpsClient refuses redirects that leave HTTPS.
var httpsClient = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("too many redirects")
	}
	return checkScheme(req.URL.String())
}}

// download fetches url into dst, hashing as it goes; it fails on any HTTP
// error, a short body or a checksum mismatch (the caller's cache entry is
// then removed, so no partial file remains).
func download(ctx context.Context, url, dst, sum string, log io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "lkmtest")
	fmt.Fprintf(log, "downloading %s\n", url)
	resp, err := httpsClient.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w (no network access to the mirror? set LKMTEST_KERNEL_MIRROR, or unpack the tree yourself and pass --kernel-src DIR)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	f, err := cache.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	t0 := time.Now()
	body := &progress.Reader{R: resp.Body, Ctx: ctx, Task: "download " + filepath.Base(dst), Total: resp.ContentLength}
	defer progress.Send(ctx, progress.Event{Task: body.Task, End: true})
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && resp.ContentLength >= 0 {
			return fmt.Errorf("download %s: truncated: got %d of %d bytes", url, n, resp.ContentLength)
		}
		return fmt.Errorf("download %s: after %d bytes: %w", url, n, err)
	}
	if err := f.Close(); err != nil {
		return cache.ExplainNoSpace(err, filepath.Dir(dst))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("download %s: sha256 mismatch: got %s, want %s; the tarball was refused and deleted (check --kernel-sha256 or the mirror)", url, got, sum)
	}
	fmt.Fprintf(log, "downloaded %s: %.1f MB in %.1fs, sha256 verified\n", filepath.Base(dst), float64(n)/1e6, time.Since(t0).Seconds())
	return nil
}
