package io.mocostream.registry.server;

/**
 * An error answer in Confluent's shape: HTTP status plus {@code {"error_code": int, "message":
 * str}}. The codes are Confluent's (io.confluent.kafka.schemaregistry.rest.exceptions.Errors).
 */
final class RestError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final int SUBJECT_NOT_FOUND = 40401;
  static final int VERSION_NOT_FOUND = 40402;
  static final int SCHEMA_NOT_FOUND = 40403;
  static final int SUBJECT_SOFT_DELETED = 40404;
  static final int SUBJECT_NOT_SOFT_DELETED = 40405;
  static final int VERSION_SOFT_DELETED = 40406;
  static final int VERSION_NOT_SOFT_DELETED = 40407;
  static final int SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408;
  static final int SUBJECT_MODE_NOT_CONFIGURED = 40409;

  /**
   * Current Confluent releases answer an incompatible schema with HTTP 409 and error_code 40901.
   */
  static final int INCOMPATIBLE_SCHEMA = 40901;

  static final int INVALID_SCHEMA = 42201;
  static final int INVALID_VERSION = 42202;
  static final int INVALID_COMPATIBILITY_LEVEL = 42203;
  static final int INVALID_MODE = 42204;
  static final int INVALID_SUBJECT = 42208;
  static final int STORE_ERROR = 50001;
  static final int OPERATION_TIMEOUT = 50002;

  final int status;
  final int errorCode;

  RestError(int status, int errorCode, String message) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  RestError(int status, int errorCode, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  static RestError subjectNotFound(String subject) {
    return new RestError(404, SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
  }

  static RestError versionNotFound(String subject, Object version) {
    return new RestError(404, VERSION_NOT_FOUND, "Version " + version + " not found.");
  }

  static RestError schemaNotFound(String what) {
    return new RestError(
        404, SCHEMA_NOT_FOUND, what == null ? "Schema not found" : "Schema " + what + " not found");
  }

  static RestError invalidSchema(String message) {
    return new RestError(422, INVALID_SCHEMA, message);
  }

  static RestError badRequest(String message) {
    // Confluent's REST layer (rest-utils JsonParseExceptionMapper/JsonMappingExceptionMapper)
    // answers a body
    // that is not valid JSON, or JSON of the wrong shape, with 400 and error_code 400.
    return new RestError(400, 400, message);
  }
}
