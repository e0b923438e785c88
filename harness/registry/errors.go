package registry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// failure is the kind of a registry error.
type failure int

const (
	other       failure = iota
	missing             // no such tag (or repository): nothing to pull
	refusedAuth         // 401, 403: the credentials
	unreachable         // no answer, or not an HTTP registry, or 5xx
)

// classify sorts err.
func (r *Registry) classify(err error) failure {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return refusedAuth
		case terr.StatusCode == http.StatusNotFound:
			return missing
		case terr.StatusCode >= 500:
			return unreachable
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return missing
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return refusedAuth
			}
		}
		return other
	}
	var nerr net.Error
	var x509err x509.UnknownAuthorityError
	var tlsErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &nerr), errors.As(err, &x509err), errors.As(err, &tlsErr), errors.As(err, &certErr):
		return unreachable
	}
	// The library's ping reports some failures only in text.
	if s := err.Error(); strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") {
		return unreachable
	}
	return other
}

// explain turns a registry error into one line naming the registry, what
// was being done ("pull KEY from") and the fix; an unreachable registry,
// or a refused push, is remembered (see isDown, pushIsRefused).
func (r *Registry) explain(doing string, err error) error {
	// The caller's interruption is no fault of the registry's.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	switch r.classify(err) {
	case missing:
		return fmt.Errorf("kernel registry %s has no such kernel (%s it: %s)", r, doing, brief(err))
	case refusedAuth:
		hint := "log in with 'docker login " + r.repo.RegistryStr() + "' (lkmtest reads the Docker config)"
		if r.repo.RegistryStr() == "ghcr.io" {
			hint = "ghcr.io says so too of a package that does not exist yet; set GITHUB_TOKEN (and GITHUB_ACTOR) to a token with read:packages, and write:packages to push, or log in with 'docker login ghcr.io'"
		}
		// A refused read may mean only that the kernel is not there
		// (ghcr.io): pushes are still tried, until one is refused.
		if strings.HasPrefix(doing, "push") {
			r.mu.Lock()
			if r.pushRefused == nil {
				r.pushRefused = err
			}
			r.mu.Unlock()
		}
		return fmt.Errorf("kernel registry %s refused access (%s it: %s): %s", r, doing, brief(err), hint)
	case unreachable:
		r.mu.Lock()
		if r.down == nil {
			r.down = err
		}
		r.mu.Unlock()
		return fmt.Errorf("kernel registry %s unreachable (%s it: %s)", r, doing, brief(err))
	}
	return fmt.Errorf("kernel registry %s: %s it: %s", r, doing, brief(err))
}

// isDown reports whether the registry was found unreachable before.
func (r *Registry) isDown() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down != nil
}

// pushIsRefused reports whether pushes are pointless: the registry was
// found unreachable, or refused a push.
func (r *Registry) pushIsRefused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down != nil || r.pushRefused != nil
}

// brief is err on one line, with the registry's error codes rather than
// the request's URL where it gave them.
func brief(err error) string {
	var terr *transport.Error
	if errors.As(err, &terr) {
		s := fmt.Sprintf("HTTP %d %s", terr.StatusCode, http.StatusText(terr.StatusCode))
		for _, d := range terr.Errors {
			s += fmt.Sprintf(", %s: %s", d.Code, d.Message)
		}
		return s
	}
	// The library tries https, then http: the connection's error says it.
	var op *net.OpError
	if errors.As(err, &op) {
		err = op
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// githubKeychain logs in to ghcr.io with $GITHUB_TOKEN, as GitHub Actions
// gives it (the user name is $GITHUB_ACTOR; ghcr.io accepts any with a
// token).
type githubKeychain struct{ token, actor string }

func (g githubKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if g.token == "" || res.RegistryStr() != "ghcr.io" {
		return authn.Anonymous, nil
	}
	user := g.actor
	if user == "" {
		user = "lkmtest"
	}
	return &authn.Basic{Username: user, Password: g.token}, nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}
