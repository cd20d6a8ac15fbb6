/**
 * {@code mocostream bench serve}: embedding requests while a new version is published ({@link
 * io.mocostream.serving.bench.ServeBench}), and the synthetic encoder versions and images it and
 * the tests use ({@link io.mocostream.serving.bench.SyntheticVersions}).
 */
package io.mocostream.serving.bench;
