# syntax=docker/dockerfile:1
# The mocostream image: every command of the CLI, run as the unprivileged user `mocostream` (uid 10001).
#
#   docker build -t REGISTRY/mocostream:TAG .                  # CPU (default target): natives from Maven Central
#   docker build --target gpu -t REGISTRY/mocostream:TAG-gpu .  # GPU: CUDA 12.8 runtime, DJL fetches the CUDA libtorch
#
# The two differ in the Maven profile (cpu: pytorch-native-cpu on the classpath; gpu: no native jar) and in the
# base image. See the README's "GPU node" section for what the GPU image does on first start.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# One reactor run: package every module the cli needs and copy the cli's runtime classpath (with the default cpu
# profile: pytorch-native-cpu). Per-module outputDirectory (target/lib) keeps each module's set apart.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -pl cli -am package dependency:copy-dependencies -Dmaven.test.skip=true \
      -DincludeScope=runtime -DoutputDirectory=target/lib \
 && mkdir -p /app/lib && cp cli/target/lib/*.jar cli/target/mocostream-cli-*.jar /app/lib/

# The same with -Pgpu: no native jar at all, or DJL would load the CPU libtorch from it and never look for CUDA.
FROM maven:3.9-eclipse-temurin-17 AS build-gpu
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Pgpu -pl cli -am package dependency:copy-dependencies -Dmaven.test.skip=true \
      -DincludeScope=runtime -DoutputDirectory=target/lib \
 && mkdir -p /app/lib && cp cli/target/lib/*.jar cli/target/mocostream-cli-*.jar /app/lib/ \
 && if ls /app/lib | grep -q pytorch-native; then echo "gpu build has a native jar on the classpath" >&2; exit 1; fi

# GPU: NVIDIA's CUDA 12.8 runtime (DJL 0.36 / PyTorch 2.7.1 publish cu128 natives) with a Temurin 17 JRE. At first
# start DJL finds libcudart through JNA, downloads libtorch 2.7.1 cu128 (~2.5 GB) from publish.djl.ai into
# ENGINE_CACHE_DIR (keep it on a volume) and loads the cu128 JNI that pytorch-jni ships. Needs network at first start.
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS gpu
ENV JAVA_HOME=/opt/java/openjdk
COPY --from=eclipse-temurin:17-jre /opt/java/openjdk /opt/java/openjdk
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sf libcudart.so.12 /usr/local/cuda/lib64/libcudart.so \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mocostream \
 && mkdir -p /var/cache/djl /keys /trust && chown mocostream:mocostream /var/cache/djl /keys /trust
COPY --from=build-gpu /app/lib /app/lib
COPY docker/entrypoint.sh /usr/local/bin/mocostream
ENV PATH=/opt/java/openjdk/bin:$PATH \
    LD_LIBRARY_PATH=/usr/local/cuda/lib64 \
    MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_ARENA_MAX=2 \
    ENGINE_CACHE_DIR=/var/cache/djl \
    MOCOSTREAM_DJL_OFFLINE=false \
    PYTORCH_FLAVOR=cu128 \
    JAVA_OPTS=-Djna.library.path=/usr/local/cuda/lib64
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/mocostream"]
CMD ["--help"]

# CPU (the default target, last in the file): Temurin 17 JRE, natives extracted from the jar on first start.
FROM eclipse-temurin:17-jre AS cpu
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mocostream \
 && mkdir -p /var/cache/djl /keys /trust && chown mocostream:mocostream /var/cache/djl /keys /trust
COPY --from=build /app/lib /app/lib
COPY docker/entrypoint.sh /usr/local/bin/mocostream
# glibc malloc keeps freed tensor memory for the next step (the launcher explains the thresholds).
ENV MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_ARENA_MAX=2 \
    ENGINE_CACHE_DIR=/var/cache/djl \
    MOCOSTREAM_DJL_OFFLINE=true
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/mocostream"]
CMD ["--help"]
