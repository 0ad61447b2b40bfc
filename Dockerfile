# inferd node image: a static binary on an empty base, run as a non-root user.
#   docker build -t inferd --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -v inferd-home:/home/inferd -p 26656:26656 -p 26656:26656/udp inferd init --moniker m --genesis URL
#   docker run -v inferd-home:/home/inferd -p 26656:26656 -p 26656:26656/udp inferd run --api.laddr 0.0.0.0:26657
# The build stage needs the golang image (a registry). Without one, build bin/inferd on the
# host and use contrib/docker/Dockerfile.local instead (docs/operations.md, "Containers").

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG GIT_COMMIT=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.gitCommit=${GIT_COMMIT}" -o /out/inferd ./cmd/inferd \
 && mkdir -p /out/home/inferd \
 && printf 'inferd:x:10001:10001:inferd:/home/inferd:/sbin/nologin\n' > /out/passwd \
 && printf 'inferd:x:10001:\n' > /out/group

FROM scratch
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=10001:10001 /out/home/inferd /home/inferd
COPY --from=build /out/inferd /usr/local/bin/inferd
USER 10001:10001
ENV INFERD_HOME=/home/inferd
VOLUME /home/inferd
# p2p (TCP and QUIC), API (loopback unless --api.laddr 0.0.0.0:26657)
EXPOSE 26656/tcp 26656/udp 26657/tcp
ENTRYPOINT ["/usr/local/bin/inferd"]
CMD ["run"]
