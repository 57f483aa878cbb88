"""Python interop client for magiclink: runs the shared scenario against a live server.

Usage (tests/interop/run.sh does this):
  PYTHONPATH=<stubs>/python /usr/bin/python3 interop_client.py 127.0.0.1:PORT

Environment:
  MAGICLINK_API_KEY      optional; sent as "authorization: Bearer <key>" on every call
  MAGICLINK_TOKENS_FILE  optional; issued tokens are appended here (never printed) so
                         the driver can check that no log contains them

The scenario (the same in every language): health check, IssueBatch of two
recipients, PEEK, CONSUME, CONSUME again (FAILED_PRECONDITION with ErrorInfo
reason TOKEN_ALREADY_USED), Revoke the second link, Verify it (TOKEN_REVOKED),
GetBatch counts. Exits non-zero on the first mismatch.
"""

import os
import re
import sys

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from magiclink.v1 import magic_link_service_pb2 as pb
from magiclink.v1 import magic_link_service_pb2_grpc as pb_grpc

ERROR_DOMAIN = "magiclink.v1"
REDIRECT_URL = "http://localhost:3000/welcome"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEADLINE_SECONDS = 10


class Mismatch(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Mismatch(what)
    print(f"ok   {what}")


def call_metadata():
    """Per-call metadata: the API key when one is configured."""
    key = os.environ.get("MAGICLINK_API_KEY")
    return (("authorization", f"Bearer {key}"),) if key else ()


def error_info(error):
    """Returns (code, ErrorInfo) decoded from grpc-status-details-bin."""
    details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    if details is None:
        raise Mismatch(f"{error.code().name} without grpc-status-details-bin")
    status = status_pb2.Status.FromString(details)
    infos = [d for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    if len(infos) != 1:
        raise Mismatch(f"expected exactly one ErrorInfo, got {len(infos)}")
    info = error_details_pb2.ErrorInfo()
    infos[0].Unpack(info)
    if status.code != error.code().value[0]:
        raise Mismatch(f"google.rpc.Status code {status.code} != grpc status {error.code().name}")
    return error.code(), info


def expect_error(call, code, reason_value, what):
    reason = pb.ErrorReason.Name(reason_value)
    try:
        call()
    except grpc.RpcError as error:
        got_code, info = error_info(error)
        if (got_code, info.domain, info.reason) != (code, ERROR_DOMAIN, reason):
            raise Mismatch(f"{what}: expected {code.name} {ERROR_DOMAIN}/{reason}, "
                           f"got {got_code.name} {info.domain}/{info.reason}")
        print(f"ok   {what}: {code.name} {reason}")
        return
    raise Mismatch(f"{what}: succeeded, expected {code.name} {reason}")


def run(target):
    metadata = call_metadata()
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_SECONDS,
                              metadata=metadata).status
        expect(status == health_pb2.HealthCheckResponse.SERVING, "health: SERVING")

        stub = pb_grpc.MagicLinkServiceStub(channel)
        issued = stub.IssueBatch(
            pb.IssueBatchRequest(
                recipients=[
                    pb.Recipient(email="ada@example.com", metadata={"name": "Ada"}),
                    pb.Recipient(email=" Grace@Example.COM "),
                ],
                purpose="invite",
                ttl=duration_pb2.Duration(seconds=3600),
                redirect_url=REDIRECT_URL,
                metadata={"team": "interop"},
            ),
            timeout=DEADLINE_SECONDS, metadata=metadata)
        tokens = [link.token for link in issued.links]
        tokens_file = os.environ.get("MAGICLINK_TOKENS_FILE")
        if tokens_file:
            with open(tokens_file, "a") as f:
                f.writelines(t + "\n" for t in tokens)
        expect(issued.batch_id != "", "issue: batch_id set")
        expect([link.email for link in issued.links] == ["ada@example.com", "Grace@example.com"],
               "issue: two links, request order, normalised emails")
        expect(all(TOKEN_PATTERN.match(t) for t in tokens) and tokens[0] != tokens[1],
               "issue: tokens are 43 distinct URL-safe characters")
        expect(all(link.url.startswith(REDIRECT_URL + "?") and "token=" + link.token in link.url
                   for link in issued.links), "issue: url is redirect_url with the token")

        peek = stub.Verify(pb.VerifyRequest(token=tokens[0], mode=pb.PEEK),
                           timeout=DEADLINE_SECONDS, metadata=metadata)
        expect(peek.email == "ada@example.com" and peek.purpose == "invite"
               and peek.batch_id == issued.batch_id and peek.redirect_url == REDIRECT_URL,
               "peek: claims")
        expect(dict(peek.metadata) == {"team": "interop", "name": "Ada"},
               "peek: batch metadata merged with recipient metadata")
        expect(peek.expires_at.seconds - peek.issued_at.seconds == 3600, "peek: ttl 3600s")
        expect(not peek.HasField("consumed_at"), "peek: not consumed")

        consumed = stub.Verify(pb.VerifyRequest(token=tokens[0], mode=pb.CONSUME,
                                                expected_purpose="invite"),
                               timeout=DEADLINE_SECONDS, metadata=metadata)
        expect(consumed.email == "ada@example.com" and consumed.HasField("consumed_at"),
               "consume: claims with consumed_at")

        expect_error(lambda: stub.Verify(pb.VerifyRequest(token=tokens[0]),
                                         timeout=DEADLINE_SECONDS, metadata=metadata),
                     grpc.StatusCode.FAILED_PRECONDITION, pb.TOKEN_ALREADY_USED, "consume again")

        revoked = stub.Revoke(pb.RevokeRequest(token=tokens[1]), timeout=DEADLINE_SECONDS,
                              metadata=metadata)
        expect(revoked.revoked_count == 1, "revoke: one token revoked")
        expect_error(lambda: stub.Verify(pb.VerifyRequest(token=tokens[1]),
                                         timeout=DEADLINE_SECONDS, metadata=metadata),
                     grpc.StatusCode.FAILED_PRECONDITION, pb.TOKEN_REVOKED, "verify revoked")

        batch = stub.GetBatch(pb.GetBatchRequest(batch_id=issued.batch_id),
                              timeout=DEADLINE_SECONDS, metadata=metadata)
        expect((batch.total, batch.outstanding, batch.consumed, batch.revoked) == (2, 0, 1, 1),
               "get batch: total 2, consumed 1, revoked 1")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(sys.argv[1])
    except Mismatch as mismatch:
        print(f"FAIL {mismatch}", file=sys.stderr)
        return 1
    except grpc.RpcError as error:
        print(f"FAIL unexpected {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    print("python interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
