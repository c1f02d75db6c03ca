package dig

import (
	"os"
	"testing"

	"github.com/infra-flash/infra/internal/dig/digtest"
)

func TestMain(m *testing.M) {
	digtest.ServeIfChild() // the server of digtest.StartChild, in its own process
	os.Exit(m.Run())
}
