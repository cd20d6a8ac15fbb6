package io.mocostream.registry.client;

/**
 * One version of a subject as the registry reports it.
 *
 * @param id global schema id (what the wire format carries)
 * @param version version within the subject, from 1
 * @param subject subject name, e.g. {@code frames.raw-value}
 * @param schema the schema as a JSON string
 */
public record SchemaMetadata(int id, int version, String subject, String schema) {}
