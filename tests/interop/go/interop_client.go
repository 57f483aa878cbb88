// Go interop client for magiclink: runs the shared scenario against a live
// server. Built in GOPATH mode against Debian's grpc-go and the stubs from
// scripts/generate-stubs.sh (tests/interop/run.sh does this):
//
//	GO111MODULE=off GOPATH=<stubs>/go:/usr/share/gocode go build -o client interop_client.go
//	./client 127.0.0.1:PORT
//
// Environment: MAGICLINK_API_KEY (optional; sent as "authorization: Bearer
// <key>"), MAGICLINK_TOKENS_FILE (optional; issued tokens are appended there,
// never printed, so the driver can check no log contains them).
package main

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "magiclink/gen/go/magiclinkv1"
)

const (
	errorDomain = "magiclink.v1"
	redirectURL = "http://localhost:3000/welcome"
	deadline    = 10 * time.Second
)

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

type mismatch string

func expect(ok bool, what string) {
	if !ok {
		panic(mismatch(what))
	}
	fmt.Printf("ok   %s\n", what)
}

// callContext carries the deadline and, when configured, the API key.
func callContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	if key := os.Getenv("MAGICLINK_API_KEY"); key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	return ctx, cancel
}

// expectError checks the code and the single ErrorInfo that grpc-go decodes
// from grpc-status-details-bin.
func expectError(err error, code codes.Code, reasonValue pb.ErrorReason, what string) {
	reason := reasonValue.String()
	if err == nil {
		panic(mismatch(fmt.Sprintf("%s: succeeded, expected %s %s", what, code, reason)))
	}
	st, _ := status.FromError(err)
	var infos []*errdetails.ErrorInfo
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			infos = append(infos, info)
		}
	}
	if len(infos) != 1 {
		panic(mismatch(fmt.Sprintf("%s: expected exactly one ErrorInfo, got %d (%s)", what, len(infos), st.Code())))
	}
	if st.Code() != code || infos[0].Domain != errorDomain || infos[0].Reason != reason {
		panic(mismatch(fmt.Sprintf("%s: expected %s %s/%s, got %s %s/%s", what, code, errorDomain, reason,
			st.Code(), infos[0].Domain, infos[0].Reason)))
	}
	fmt.Printf("ok   %s: %s %s\n", what, code, reason)
}

func must(err error, what string) {
	if err != nil {
		panic(mismatch(fmt.Sprintf("%s: unexpected %s: %s", what, status.Code(err), status.Convert(err).Message())))
	}
}

func run(target string) {
	conn, err := grpc.Dial(target, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(deadline))
	must(err, "dial")
	defer conn.Close()

	ctx, cancel := callContext()
	defer cancel()
	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	must(err, "health")
	expect(health.Status == healthpb.HealthCheckResponse_SERVING, "health: SERVING")

	client := pb.NewMagicLinkServiceClient(conn)
	issued, err := client.IssueBatch(ctx, &pb.IssueBatchRequest{
		Recipients: []*pb.Recipient{
			{Email: "ada@example.com", Metadata: map[string]string{"name": "Ada"}},
			{Email: " Grace@Example.COM "},
		},
		Purpose:     "invite",
		Ttl:         durationpb.New(time.Hour),
		RedirectUrl: redirectURL,
		Metadata:    map[string]string{"team": "interop"},
	})
	must(err, "issue")
	var tokens, emails []string
	for _, link := range issued.Links {
		tokens = append(tokens, link.Token)
		emails = append(emails, link.Email)
	}
	if path := os.Getenv("MAGICLINK_TOKENS_FILE"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0600)
		must(err, "tokens file")
		fmt.Fprintln(f, strings.Join(tokens, "\n"))
		f.Close()
	}
	expect(issued.BatchId != "", "issue: batch_id set")
	expect(reflect.DeepEqual(emails, []string{"ada@example.com", "Grace@example.com"}),
		"issue: two links, request order, normalised emails")
	expect(tokenPattern.MatchString(tokens[0]) && tokenPattern.MatchString(tokens[1]) && tokens[0] != tokens[1],
		"issue: tokens are 43 distinct URL-safe characters")
	urlsOK := true
	for _, link := range issued.Links {
		urlsOK = urlsOK && strings.HasPrefix(link.Url, redirectURL+"?") && strings.Contains(link.Url, "token="+link.Token)
	}
	expect(urlsOK, "issue: url is redirect_url with the token")

	peek, err := client.Verify(ctx, &pb.VerifyRequest{Token: tokens[0], Mode: pb.VerifyMode_PEEK})
	must(err, "peek")
	expect(peek.Email == "ada@example.com" && peek.Purpose == "invite" && peek.BatchId == issued.BatchId &&
		peek.RedirectUrl == redirectURL, "peek: claims")
	expect(reflect.DeepEqual(peek.Metadata, map[string]string{"team": "interop", "name": "Ada"}),
		"peek: batch metadata merged with recipient metadata")
	expect(peek.ExpiresAt.AsTime().Sub(peek.IssuedAt.AsTime()) == time.Hour, "peek: ttl 3600s")
	expect(peek.ConsumedAt == nil, "peek: not consumed")

	consumed, err := client.Verify(ctx, &pb.VerifyRequest{Token: tokens[0], Mode: pb.VerifyMode_CONSUME,
		ExpectedPurpose: "invite"})
	must(err, "consume")
	expect(consumed.Email == "ada@example.com" && consumed.ConsumedAt != nil, "consume: claims with consumed_at")

	_, err = client.Verify(ctx, &pb.VerifyRequest{Token: tokens[0]})
	expectError(err, codes.FailedPrecondition, pb.ErrorReason_TOKEN_ALREADY_USED, "consume again")

	revoked, err := client.Revoke(ctx, &pb.RevokeRequest{Target: &pb.RevokeRequest_Token{Token: tokens[1]}})
	must(err, "revoke")
	expect(revoked.RevokedCount == 1, "revoke: one token revoked")
	_, err = client.Verify(ctx, &pb.VerifyRequest{Token: tokens[1]})
	expectError(err, codes.FailedPrecondition, pb.ErrorReason_TOKEN_REVOKED, "verify revoked")

	batch, err := client.GetBatch(ctx, &pb.GetBatchRequest{BatchId: issued.BatchId})
	must(err, "get batch")
	expect(batch.Total == 2 && batch.Outstanding == 0 && batch.Consumed == 1 && batch.Revoked == 1,
		"get batch: total 2, consumed 1, revoked 1")
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: interop_client HOST:PORT")
		os.Exit(2)
	}
	defer func() {
		if r := recover(); r != nil {
			if m, ok := r.(mismatch); ok {
				fmt.Fprintf(os.Stderr, "FAIL %s\n", string(m))
				os.Exit(1)
			}
			panic(r)
		}
	}()
	run(os.Args[1])
	fmt.Println("go interop: all checks passed")
}
