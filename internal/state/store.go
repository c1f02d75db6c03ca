package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Store reads a layer's state objects from its S3-compatible bucket: the lock
// object (to name its holder and check a lock ID before unlocking) and the state.
type Store struct {
	client *s3.Client
	s      Settings
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
	opts := s3.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, s.Token),
		UsePathStyle: s.PathStyle,
		HTTPClient:   &http.Client{},
		// S3-compatible stores (R2 among them) do not all know the newer checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           2,
	}
	if s.Endpoint != "" {
		opts.BaseEndpoint = aws.String(s.Endpoint)
	}
	return &Store{client: s3.New(opts), s: s}, nil
}

// Get returns an object of the bucket, or nil when it does not exist.
func (st *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := st.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(st.s.Bucket), Key: aws.String(key)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode() {
			case "NoSuchKey", "NotFound":
				return nil, nil
			case "InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "AccessDenied", "Forbidden", "InvalidToken", "ExpiredToken":
				return nil, &CredentialsError{Where: st.s.Describe(), Code: apiErr.ErrorCode()}
			case "NoSuchBucket":
				return nil, fmt.Errorf("the state bucket %q does not exist at %s", st.s.Bucket, st.s.Describe())
			}
			return nil, fmt.Errorf("reading %s from %s: %s", key, st.s.Describe(), apiErr.ErrorCode())
		}
		return nil, &UnreachableError{Where: st.s.Describe(), Err: err}
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 512<<20))
	if err != nil {
		return nil, &UnreachableError{Where: st.s.Describe(), Err: err}
	}
	return data, nil
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
