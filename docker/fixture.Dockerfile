# The Go 1.19 HTTP test fixture (tests/fixtures/httpserver) as a container image on the local Debian base,
# for the Dockerized tests: the binaries are in an image layer, as a real service's are, not bind-mounted.
# Built by docker/build_images.sh from a context of the built fixtures:
#   tar -c docker/fixture.Dockerfile -C build/fixtures httpserver-plain httpserver-stripped |
#       docker build -f docker/fixture.Dockerfile -t gmon-test-httpserver -
ARG BASE=gmon-debian:bookworm
FROM ${BASE}
COPY httpserver-plain httpserver-stripped /app/
EXPOSE 8080
ENTRYPOINT ["/app/httpserver-plain", "-addr", "0.0.0.0:8080"]
