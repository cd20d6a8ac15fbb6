#!/bin/sh
# The image's entry point: the mocostream CLI with the container's settings.
#   MOCOSTREAM_THREADS   PyTorch intra-op threads. Kubernetes sets it from the container's CPU limit
#                        (resourceFieldRef limits.cpu); unset, the count is left to the application.
#   MOCOSTREAM_HEAP      JVM heap, e.g. 4g (default: half the container's memory limit; DJL's tensors live off-heap).
#   MOCOSTREAM_DJL_OFFLINE  true (CPU image: natives from the jar, never a download) or false (GPU image: DJL fetches
#                        the CUDA libtorch on first start into ENGINE_CACHE_DIR).
#   MOCOSTREAM_VERBOSE   true (default here): log lines on stderr; false: warnings only, the log in logs/.
#   JAVA_OPTS            extra JVM options.
set -eu
# A container's log is its stderr (docker logs, kubectl logs): no log file unless MOCOSTREAM_VERBOSE=false.
export MOCOSTREAM_VERBOSE="${MOCOSTREAM_VERBOSE:-true}"
heap="-XX:MaxRAMPercentage=50"
[ -n "${MOCOSTREAM_HEAP:-}" ] && heap="-Xmx${MOCOSTREAM_HEAP}"
threads=""
[ -n "${MOCOSTREAM_THREADS:-}" ] && threads="-Dai.djl.pytorch.num_threads=${MOCOSTREAM_THREADS}"
# shellcheck disable=SC2086 # word splitting of the option strings is intended
exec java $heap $threads -Dai.djl.pytorch.num_interop_threads=1 -Dai.djl.offline="${MOCOSTREAM_DJL_OFFLINE:-true}" \
  ${JAVA_OPTS:-} -cp '/app/lib/*' io.mocostream.cli.MocoStream "$@"
