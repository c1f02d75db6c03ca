package dig

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/dig/digtest"
)

// Short names for the test servers of digtest.
var (
	newCA            = digtest.NewCA
	startTLS         = digtest.StartTLS
	codes            = digtest.Codes
	port             = digtest.Port
	refusedPort      = digtest.RefusedPort
	silentPort       = digtest.SilentPort
	nxdomainResolver = digtest.NXDomainResolver
)

// pool trusts ca the way --cacert does.
func pool(t testing.TB, ca *digtest.CA) *x509.CertPool {
	t.Helper()
	p, err := CertPool("ca.PEM", ca.PEM)
	require.NoError(t, err)
	return p
}
