package dig

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":      "example.com",
		"Example.COM.":     "example.com",
		"localhost":        "localhost",
		"a-b.c0.example.t": "a-b.c0.example.t",
	} {
		got, err := ParseDomain(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for in, why := range map[string]string{
		"":                    "it is empty",
		"https://example.com": "not a URL (no scheme)",
		"example.com/path":    "not a URL (no path)",
		"user@example.com":    "no user part",
		"127.0.0.1":           "not an IP address",
		"[::1]":               "not an IP address",
		"example.com:8443":    "no port",
		"exa mple.com":        `"exa mple" is not a DNS label`,
		"-bad.example.com":    `"-bad" is not a DNS label`,
		"example..com":        `"" is not a DNS label`,
		"*.example.com":       `"*" is not a DNS label`,
		"ex_ample.com":        `"ex_ample" is not a DNS label`,
		"example.com\n":       `is not a DNS label`,
	} {
		_, err := ParseDomain(in)
		require.Error(t, err, in)
		var inputErr *InputError
		assert.ErrorAs(t, err, &inputErr)
		assert.Contains(t, err.Error(), why, in)
		assert.Contains(t, err.Error(), "such as example.com", in)
	}
}

func TestParseConnectTo(t *testing.T) {
	for in, want := range map[string]ConnectTo{
		"i-secrets.example.com:443:127.0.0.1:8443": {"i-secrets.example.com", "443", "127.0.0.1", "8443"},
		"::127.0.0.1:8443":                         {"", "", "127.0.0.1", "8443"},
		"Example.com::[::1]:":                      {"example.com", "", "::1", ""},
		"[2001:db8::1]:443:[::1]:8443":             {"2001:db8::1", "443", "::1", "8443"},
		":::":                                      {},
		"a.example.com:6443:kube.local:":           {"a.example.com", "6443", "kube.local", ""},
	} {
		got, err := ParseConnectTo(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		again, err := ParseConnectTo(got.String())
		require.NoError(t, err, got.String())
		assert.Equal(t, got, again)
	}
	for in, why := range map[string]string{
		"example.com:443:127.0.0.1":        "3 fields",
		"a:1:b:2:c":                        "5 fields",
		"example.com:https:127.0.0.1:8443": `port "https"`,
		"example.com:443:127.0.0.1:70000":  `port "70000"`,
		"example.com:0443:127.0.0.1:1":     `port "0443"`,
		"[::1:443:x:1":                     "unclosed [",
		"[nothost]:443:x:1":                "not an IPv6 address",
		"[::1]x:443:x:1":                   "] must be followed by :",
		"exa mple.com:443:x:1":             "not a host name",
		"a/b:443:x:1":                      "not a host name",
		"":                                 "1 fields",
	} {
		_, err := ParseConnectTo(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), why, in)
		assert.Contains(t, err.Error(), "HOST:PORT:ADDR:PORT", in)
	}
}

func TestRoute(t *testing.T) {
	rules := []ConnectTo{
		{Host: "a.example.com", Port: "443", ToHost: "10.0.0.1", ToPort: "8443"},
		{Host: "b.example.com", ToHost: "10.0.0.2"},
		{Port: "6443", ToPort: "16443"},
		{ToHost: "::1", ToPort: "9443"},
	}
	assert.Equal(t, "10.0.0.1:8443", route(rules, "A.example.com", "443"))
	assert.Equal(t, "[::1]:9443", route(rules, "a.example.com", "80"), "port must match too; the catch-all takes it")
	assert.Equal(t, "10.0.0.2:443", route(rules, "b.example.com", "443"), "empty ADDR port keeps the requested one")
	assert.Equal(t, "c.example.com:16443", route(rules, "c.example.com", "6443"), "empty ADDR keeps the requested host")
	assert.Equal(t, "c.example.com:443", route(nil, "c.example.com", "443"))
}

func TestCertPool(t *testing.T) {
	ca := newCA(t)
	pool, err := CertPool("ca.PEM", append([]byte("junk before\n"), ca.PEM...))
	require.NoError(t, err)
	assert.NotNil(t, pool)
	_, err = CertPool("empty.pem", []byte("not a certificate"))
	assert.ErrorContains(t, err, "--cacert empty.pem holds no PEM certificate")
	_, err = CertPool("bad.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	assert.ErrorContains(t, err, "--cacert bad.pem: certificate 1:")
}

// FuzzParseConnectTo: any input is either rejected with a message or yields a
// rule that prints back to itself and routes without panicking.
func FuzzParseConnectTo(f *testing.F) {
	for _, s := range []string{"a.example.com:443:127.0.0.1:8443", "::[::1]:", "[2001:db8::1]:1:b:2", ":::", "a:b:c:d:e", "[", "]:::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConnectTo(s)
		if err != nil {
			assert.Contains(t, err.Error(), "HOST:PORT:ADDR:PORT")
			return
		}
		again, err := ParseConnectTo(c.String())
		require.NoError(t, err, "%q printed as %q", s, c.String())
		assert.Equal(t, c, again)
		_ = route([]ConnectTo{c}, "x.example.com", "443")
	})
}

// TestValidateConcurrency: the interfaces default to DefaultConcurrency; 0, a
// negative number or more than MaxConcurrency is bad input.
func TestValidateConcurrency(t *testing.T) {
	in := Input{Domain: "example.com", Format: "text", Concurrency: DefaultConcurrency}
	_, opts, err := in.Validate()
	require.NoError(t, err)
	assert.Equal(t, DefaultConcurrency, opts.Concurrency)
	for _, n := range []int{0, -1, MaxConcurrency + 1} {
		in.Concurrency = n
		_, _, err := in.Validate()
		var inputErr *InputError
		require.ErrorAs(t, err, &inputErr, "%d", n)
		assert.ErrorContains(t, err, fmt.Sprintf("invalid --concurrency %d: services probed at once, from 1 to 1024", n))
	}
}
