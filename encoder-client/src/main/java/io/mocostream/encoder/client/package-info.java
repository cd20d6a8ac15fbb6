/**
 * Reading encoder versions: a verifying subscriber, its listeners, and the {@code subscribe}
 * command.
 */
package io.mocostream.encoder.client;
