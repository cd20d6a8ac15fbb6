# The mocostream image: every command of the CLI. CPU natives come from Maven Central at build time.
# For a GPU node, build with --build-arg PYTORCH_LIBRARY_PATH=... pointing at a CUDA libtorch 2.7.1 that the
# image provides (DJL 0.36's CUDA natives are not on Maven Central; see shared STACK notes in the README).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q install -DskipTests \
 && mvn -B -q -pl cli dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/app/lib \
 && cp cli/target/mocostream-cli-*.jar /app/lib/

FROM eclipse-temurin:17-jre
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/lib /app/lib
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
    ENGINE_CACHE_DIR=/var/cache/djl
ENTRYPOINT ["java", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_interop_threads=1", "-cp", "/app/lib/*", "io.mocostream.cli.MocoStream"]
CMD ["--help"]
