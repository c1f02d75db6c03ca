package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Store reads a layer's state objects from its S3-compatible bucket: the lock
// object (to name its holder and check a lock ID before unlocking) and the state.
//
// It also writes the objects this tool owns (PR locks, saved plans): signed
// GET, PUT (conditional for a create) and DELETE requests, with the AWS SDK's
// SigV4 signer over net/http rather than the SDK's S3 client: that client and its
// generated code are most of what the Dagger module compiles on every cold start,
// for these few calls.
type Store struct {
	s      Settings
	client *http.Client
	signer *v4.Signer
	region string
}

// CredentialsError means the bucket refused the credentials. It never carries them.
type CredentialsError struct{ Where, Code string }

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("the state backend (%s) refused the credentials (%s): check the access key and secret in the backend config", e.Where, e.Code)
}

// UnreachableError means the bucket could not be asked at all.
type UnreachableError struct {
	Where string
	Err   error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("the state backend (%s) could not be reached: %v", e.Where, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// NewStore makes a client for the settings' bucket.
func NewStore(s Settings) (*Store, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("the backend endpoint %q is not an http(s) URL", s.Endpoint)
		}
	}
	// S3 keys are escaped here, once, as SigV4 for S3 wants them.
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	return &Store{s: s, client: &http.Client{Timeout: 60 * time.Second}, signer: signer, region: region}, nil
}

// objectURL addresses key in the bucket: path style (the bucket in the path) when
// asked or when the endpoint is an address, else virtual-hosted (bucket.host).
func (st *Store) objectURL(key string) *url.URL {
	endpoint := st.s.Endpoint
	if endpoint == "" {
		endpoint = "https://s3." + st.region + ".amazonaws.com"
	}
	u, _ := url.Parse(endpoint) // checked in NewStore
	base := strings.TrimSuffix(u.Path, "/")
	if st.s.PathStyle || net.ParseIP(u.Hostname()) != nil || u.Hostname() == "localhost" {
		base += "/" + escapeKey(st.s.Bucket)
	} else {
		u.Host = st.s.Bucket + "." + u.Host
	}
	u.Path = base + "/" + key
	u.RawPath = base + "/" + escapeKey(key)
	return u
}

// escapeKey escapes an object key as S3 signs it: every byte but unreserved
// characters and the slashes between segments.
func escapeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// emptyPayload is the SHA-256 of an empty body, which a GET or DELETE signs.
var emptyPayload = func() string { sum := sha256.Sum256(nil); return hex.EncodeToString(sum[:]) }()

// s3Error is the XML body S3 answers a failed request with.
type s3Error struct {
	Code string `xml:"Code"`
}

// Get returns an object of the bucket, or nil when it does not exist. A request
// that never got an answer is tried once more (a GET changes nothing).
func (st *Store) Get(ctx context.Context, key string) ([]byte, error) {
	var resp *http.Response
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if resp, err = st.send(ctx, http.MethodGet, key, nil, nil); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, &UnreachableError{Where: st.s.Describe(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		data, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
		if err != nil {
			return nil, &UnreachableError{Where: st.s.Describe(), Err: err}
		}
		return data, nil
	}
	code := errorCode(resp)
	if code == "NoSuchKey" || code == "NotFound" {
		return nil, nil
	}
	return nil, st.failure("reading", key, resp.StatusCode, code)
}

// Create writes an object only if none exists under its key (a PUT with
// If-None-Match: *, the conditional write S3-native locking relies on).
// created is false when another writer's object is already there. It is never
// retried: a lost answer to a write that succeeded would read as "exists".
func (st *Store) Create(ctx context.Context, key string, data []byte) (created bool, err error) {
	err = st.write(ctx, http.MethodPut, key, data, map[string]string{"If-None-Match": "*"})
	var cf *conflictError
	if errors.As(err, &cf) {
		return false, nil
	}
	return err == nil, err
}

// Put writes an object, replacing any under its key.
func (st *Store) Put(ctx context.Context, key string, data []byte) error {
	return st.write(ctx, http.MethodPut, key, data, nil)
}

// Delete removes an object; removing one that is not there is no error.
func (st *Store) Delete(ctx context.Context, key string) error {
	return st.write(ctx, http.MethodDelete, key, nil, nil)
}

// conflictError is a conditional write's refusal: the object already exists.
type conflictError struct{}

func (*conflictError) Error() string { return "the object exists" }

func (st *Store) write(ctx context.Context, method, key string, data []byte, header map[string]string) error {
	resp, err := st.send(ctx, method, key, data, header)
	if err != nil {
		return &UnreachableError{Where: st.s.Describe(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	code := errorCode(resp)
	switch {
	case code == "PreconditionFailed" || code == "ConditionalRequestConflict" || resp.StatusCode == http.StatusPreconditionFailed:
		return &conflictError{}
	case method == http.MethodDelete && (code == "NoSuchKey" || code == "NotFound"):
		return nil
	}
	verb := "writing"
	if method == http.MethodDelete {
		verb = "deleting"
	}
	return st.failure(verb, key, resp.StatusCode, code)
}

// errorCode is the S3 error code of a failed answer, or its status in words.
func errorCode(resp *http.Response) string {
	var e s3Error
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = xml.Unmarshal(body, &e)
	if e.Code != "" {
		return e.Code
	}
	// an answer without a body (HEAD-like), or a proxy's page
	if resp.StatusCode == http.StatusNotFound {
		return "NotFound"
	}
	return http.StatusText(resp.StatusCode)
}

// failure turns a refused request into the error that says what to fix.
func (st *Store) failure(verb, key string, status int, code string) error {
	switch code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "AccessDenied", "Forbidden", "InvalidToken", "ExpiredToken":
		return &CredentialsError{Where: st.s.Describe(), Code: code}
	case "NoSuchBucket":
		return fmt.Errorf("the state bucket %q does not exist at %s", st.s.Bucket, st.s.Describe())
	}
	if status >= 500 {
		return &UnreachableError{Where: st.s.Describe(), Err: fmt.Errorf("%d %s", status, code)}
	}
	return fmt.Errorf("%s %s: %s", verb, key+map[bool]string{true: " from ", false: " at "}[verb == "reading"]+st.s.Describe(), code)
}

// send makes one signed request for an object.
func (st *Store) send(ctx context.Context, method, key string, data []byte, header map[string]string) (*http.Response, error) {
	var body io.Reader
	payload := emptyPayload
	if data != nil {
		body = bytes.NewReader(data)
		sum := sha256.Sum256(data)
		payload = hex.EncodeToString(sum[:])
	}
	req, err := http.NewRequestWithContext(ctx, method, st.objectURL(key).String(), body)
	if err != nil {
		return nil, err
	}
	if data != nil {
		req.ContentLength = int64(len(data))
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	creds := aws.Credentials{AccessKeyID: st.s.AccessKey, SecretAccessKey: st.s.SecretKey, SessionToken: st.s.Token}
	if err := st.signer.SignHTTP(ctx, creds, req, payload, "s3", st.region, time.Now().UTC()); err != nil {
		return nil, errors.Join(errors.New("signing the request"), err)
	}
	return st.client.Do(req)
}

// State returns the layer's state object, or nil when the layer has none yet.
func (st *Store) State(ctx context.Context) ([]byte, error) { return st.Get(ctx, st.s.Key) }

// Lock returns the lock held on the layer's state, or nil when it is not locked.
func (st *Store) Lock(ctx context.Context) (*Lock, error) {
	data, err := st.Get(ctx, st.s.LockKey())
	if err != nil || data == nil {
		return nil, err
	}
	l, err := ParseLockJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.s.LockKey(), err)
	}
	return &l, nil
}
