// Java interop client for magiclink: runs the shared scenario against a live
// server with Debian's grpc-java 1.41 and the stubs from
// scripts/generate-stubs.sh (tests/interop/run.sh compiles and runs it):
//
//   java -cp <classes>:<jars> InteropClient 127.0.0.1:PORT
//
// Environment: MAGICLINK_API_KEY (optional; sent as "authorization: Bearer
// <key>"), MAGICLINK_TOKENS_FILE (optional; issued tokens are appended there,
// never printed, so the driver can check no log contains them).

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.magiclink.v1.ErrorReason;
import dev.magiclink.v1.GetBatchRequest;
import dev.magiclink.v1.GetBatchResponse;
import dev.magiclink.v1.IssueBatchRequest;
import dev.magiclink.v1.IssueBatchResponse;
import dev.magiclink.v1.IssuedLink;
import dev.magiclink.v1.MagicLinkServiceGrpc;
import dev.magiclink.v1.Recipient;
import dev.magiclink.v1.RevokeRequest;
import dev.magiclink.v1.VerifyMode;
import dev.magiclink.v1.VerifyRequest;
import dev.magiclink.v1.VerifyResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

public final class InteropClient {
  private static final String ERROR_DOMAIN = "magiclink.v1";
  private static final String REDIRECT_URL = "http://localhost:3000/welcome";
  private static final Pattern TOKEN_PATTERN = Pattern.compile("^[A-Za-z0-9_-]{43}$");
  private static final long DEADLINE_SECONDS = 10;

  private static final class Mismatch extends RuntimeException {
    Mismatch(String what) {
      super(what);
    }
  }

  private static void expect(boolean ok, String what) {
    if (!ok) throw new Mismatch(what);
    System.out.println("ok   " + what);
  }

  // Adds the deadline and, when configured, the API key to a stub.
  private static <S extends AbstractStub<S>> S withCallOptions(S stub) {
    S configured = stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    String key = System.getenv("MAGICLINK_API_KEY");
    if (key != null && !key.isEmpty()) {
      Metadata metadata = new Metadata();
      metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
      configured = configured.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }
    return configured;
  }

  // Decodes the single ErrorInfo from grpc-status-details-bin.
  private static void expectError(Supplier<?> call, Status.Code code, ErrorReason reasonValue, String what) {
    String reason = reasonValue.name();
    StatusRuntimeException error;
    try {
      call.get();
      throw new Mismatch(what + ": succeeded, expected " + code + " " + reason);
    } catch (StatusRuntimeException e) {
      error = e;
    }
    com.google.rpc.Status status = StatusProto.fromThrowable(error);
    if (status == null) throw new Mismatch(what + ": " + error.getStatus().getCode() + " without details");
    List<Any> infos = status.getDetailsList().stream()
        .filter(any -> any.is(ErrorInfo.class)).collect(Collectors.toList());
    if (infos.size() != 1) throw new Mismatch(what + ": expected exactly one ErrorInfo, got " + infos.size());
    ErrorInfo info;
    try {
      info = infos.get(0).unpack(ErrorInfo.class);
    } catch (InvalidProtocolBufferException e) {
      throw new Mismatch(what + ": undecodable ErrorInfo");
    }
    Status.Code got = error.getStatus().getCode();
    if (got != code || !info.getDomain().equals(ERROR_DOMAIN) || !info.getReason().equals(reason)) {
      throw new Mismatch(what + ": expected " + code + " " + ERROR_DOMAIN + "/" + reason + ", got " + got + " "
          + info.getDomain() + "/" + info.getReason());
    }
    System.out.println("ok   " + what + ": " + code + " " + reason);
  }

  private static void run(String target) throws IOException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      HealthCheckResponse health = withCallOptions(HealthGrpc.newBlockingStub(channel))
          .check(HealthCheckRequest.getDefaultInstance());
      expect(health.getStatus() == HealthCheckResponse.ServingStatus.SERVING, "health: SERVING");

      MagicLinkServiceGrpc.MagicLinkServiceBlockingStub stub =
          withCallOptions(MagicLinkServiceGrpc.newBlockingStub(channel));
      IssueBatchResponse issued = stub.issueBatch(IssueBatchRequest.newBuilder()
          .addRecipients(Recipient.newBuilder().setEmail("ada@example.com").putMetadata("name", "Ada"))
          .addRecipients(Recipient.newBuilder().setEmail(" Grace@Example.COM "))
          .setPurpose("invite")
          .setTtl(Duration.newBuilder().setSeconds(3600))
          .setRedirectUrl(REDIRECT_URL)
          .putMetadata("team", "interop")
          .build());
      List<String> tokens = issued.getLinksList().stream().map(IssuedLink::getToken).collect(Collectors.toList());
      String tokensFile = System.getenv("MAGICLINK_TOKENS_FILE");
      if (tokensFile != null && !tokensFile.isEmpty()) {
        Files.write(Paths.get(tokensFile), (String.join("\n", tokens) + "\n").getBytes(StandardCharsets.UTF_8),
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      }
      expect(!issued.getBatchId().isEmpty(), "issue: batch_id set");
      expect(issued.getLinksList().stream().map(IssuedLink::getEmail).collect(Collectors.toList())
              .equals(List.of("ada@example.com", "Grace@example.com")),
          "issue: two links, request order, normalised emails");
      expect(tokens.stream().allMatch(t -> TOKEN_PATTERN.matcher(t).matches()) && !tokens.get(0).equals(tokens.get(1)),
          "issue: tokens are 43 distinct URL-safe characters");
      expect(issued.getLinksList().stream().allMatch(
              link -> link.getUrl().startsWith(REDIRECT_URL + "?") && link.getUrl().contains("token=" + link.getToken())),
          "issue: url is redirect_url with the token");

      VerifyResponse peek = stub.verify(VerifyRequest.newBuilder().setToken(tokens.get(0)).setMode(VerifyMode.PEEK).build());
      expect(peek.getEmail().equals("ada@example.com") && peek.getPurpose().equals("invite")
              && peek.getBatchId().equals(issued.getBatchId()) && peek.getRedirectUrl().equals(REDIRECT_URL),
          "peek: claims");
      expect(peek.getMetadataMap().equals(Map.of("team", "interop", "name", "Ada")),
          "peek: batch metadata merged with recipient metadata");
      expect(peek.getExpiresAt().getSeconds() - peek.getIssuedAt().getSeconds() == 3600, "peek: ttl 3600s");
      expect(!peek.hasConsumedAt(), "peek: not consumed");

      VerifyResponse consumed = stub.verify(VerifyRequest.newBuilder().setToken(tokens.get(0))
          .setMode(VerifyMode.CONSUME).setExpectedPurpose("invite").build());
      expect(consumed.getEmail().equals("ada@example.com") && consumed.hasConsumedAt(),
          "consume: claims with consumed_at");

      expectError(() -> stub.verify(VerifyRequest.newBuilder().setToken(tokens.get(0)).build()),
          Status.Code.FAILED_PRECONDITION, ErrorReason.TOKEN_ALREADY_USED, "consume again");

      long revoked = stub.revoke(RevokeRequest.newBuilder().setToken(tokens.get(1)).build()).getRevokedCount();
      expect(revoked == 1, "revoke: one token revoked");
      expectError(() -> stub.verify(VerifyRequest.newBuilder().setToken(tokens.get(1)).build()),
          Status.Code.FAILED_PRECONDITION, ErrorReason.TOKEN_REVOKED, "verify revoked");

      GetBatchResponse batch = stub.getBatch(GetBatchRequest.newBuilder().setBatchId(issued.getBatchId()).build());
      expect(batch.getTotal() == 2 && batch.getOutstanding() == 0 && batch.getConsumed() == 1 && batch.getRevoked() == 1,
          "get batch: total 2, consumed 1, revoked 1");
    } finally {
      channel.shutdownNow();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: InteropClient HOST:PORT");
      System.exit(2);
    }
    try {
      run(args[0]);
    } catch (Mismatch m) {
      System.err.println("FAIL " + m.getMessage());
      System.exit(1);
    } catch (StatusRuntimeException e) {
      System.err.println("FAIL unexpected " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      System.exit(1);
    }
    System.out.println("java interop: all checks passed");
  }
}
