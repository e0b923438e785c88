// Package registrytest runs an in-process OCI registry
// (go-containerregistry's pkg/registry on httptest) for tests of kernel
// sharing, with the faults they need: a blob served corrupted, blobs
// served slowly, a registry refusing every request.
package registrytest
