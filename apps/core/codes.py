"""Every error code Sluice answers, each with its meaning: the one list that tests and docs
name codes from. A code is a promise to clients, who branch on it: once shipped it is never
renamed or reused for something else, only added to."""

from enum import StrEnum


class Code(StrEnum):
    """A stable snake_case error code: the problem's `code`, or a field error's."""

    # The request as a whole
    VALIDATION_ERROR = "validation_error"  # the input is wrong: `errors` names each field
    PARSE_ERROR = "parse_error"  # the body is not JSON Sluice can read
    BAD_REQUEST = "bad_request"  # the request could not be understood at all
    METHOD_NOT_ALLOWED = "method_not_allowed"  # the address does not take this HTTP method
    NOT_ACCEPTABLE = "not_acceptable"  # no answer in a media type the client accepts
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # a body of a type Sluice does not read
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # a Content-Encoding other than gzip
    INVALID_ENCODING = "invalid_encoding"  # a body said to be gzip that is not
    SERVER_ERROR = "server_error"  # Sluice failed; the answer quotes a request id
    URI_TOO_LONG = "uri_too_long"  # the address with its query is beyond 8 KB (the front)
    REQUEST_HEADER_FIELDS_TOO_LARGE = "request_header_fields_too_large"  # a header beyond 8 KB
    NOT_IMPLEMENTED = "not_implemented"  # a Transfer-Encoding other than chunked (the front)

    # Who asks, and what it may do
    NOT_AUTHENTICATED = "not_authenticated"  # no valid API key of the org
    SESSION_EXPIRED = "session_expired"  # a collector session token expired, forged or revoked
    PERMISSION_DENIED = "permission_denied"  # the key may not do this (a write key managing)
    OUTSIDE_KEY_SCOPE = "outside_key_scope"  # a source's write key sending to another source
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # a web page of an origin no web source allows
    NOT_FOUND = "not_found"  # nothing with this address or id exists for this key
    RATE_LIMITED = "rate_limited"  # over the key's or the org's rate limit: see Retry-After

    # Clashes with what exists
    CONFLICT = "conflict"  # it clashes with what exists (when no code says more)
    DUPLICATE_NAME = "duplicate_name"  # the name is taken in its org (or collection)
    SOURCE_IN_USE = "source_in_use"  # a source that still has collections
    COLLECTION_REFERENCED = "collection_referenced"  # foreign identifiers point at it
    BUILTIN_COLLECTION = "builtin_collection"  # every org's built-in collections stay
    IDENTIFIER_REFERENCED = "identifier_referenced"  # foreign identifiers point at it
    PRIMARY_IDENTIFIER_EXISTS = "primary_identifier_exists"  # a collection has one at most
    NO_PRIMARY_IDENTIFIER = "no_primary_identifier"  # records are keyed by it: add one first
    LAST_SECRET_KEY = "last_secret_key"  # a key may not revoke its org's last secret key
    KEY_NOT_LIVE = "key_not_live"  # a revoked or expired key cannot be rotated

    # Size limits
    PAYLOAD_TOO_LARGE = "payload_too_large"  # more than Sluice takes at once
    REQUEST_TOO_LARGE = "request_too_large"  # a request body beyond its limit
    TOO_MANY_RECORDS = "too_many_records"  # more records in one request than allowed
    RECORD_TOO_LARGE = "record_too_large"  # one record beyond 32 KB

    # Services Sluice needs
    DATABASE_UNAVAILABLE = "database_unavailable"  # the database cannot be reached: retry
    QUEUE_UNAVAILABLE = "queue_unavailable"  # the queue cannot take records: retry
    WEB_UNAVAILABLE = "web_unavailable"  # the front cannot reach the web processes: retry
    WEB_TIMEOUT = "web_timeout"  # the web processes did not answer in time (the front)

    # Fields of any input (DRF's serializers answer these too, under the same names)
    INVALID = "invalid"  # the value is not of the kind the field takes
    REQUIRED = "required"  # the field is missing
    NULL = "null"  # the field may not be null
    BLANK = "blank"  # the field may not be an empty string
    MAX_LENGTH = "max_length"  # a text or list longer than the field takes
    MAX_VALUE = "max_value"  # a number above the field's maximum
    INVALID_CHOICE = "invalid_choice"  # not one of the field's choices
    NOT_A_LIST = "not_a_list"  # the field takes a JSON array
    NULL_CHARACTERS_NOT_ALLOWED = "null_characters_not_allowed"  # text holding a NUL
    SURROGATE_CHARACTERS_NOT_ALLOWED = "surrogate_characters_not_allowed"  # a lone surrogate
    MISMATCH = "mismatch"  # the body names another object than the address
    NUL_CHARACTER = "nul_character"  # a string or query parameter holding a NUL

    # Schemas and identifiers
    INVALID_SCHEMA = "invalid_schema"  # not a valid Avro record schema
    INVALID_KIND = "invalid_kind"  # a collection is either of events or of profiles
    IDENTIFIER_FIELD_REMOVED = "identifier_field_removed"  # a schema change drops a key field
    UNKNOWN_FIELD = "unknown_field"  # no such field in the collection's schema
    NOT_A_KEY_FIELD = "not_a_key_field"  # only string, int and long fields identify records
    TYPE_MISMATCH = "type_mismatch"  # key types differ from the collection's or reference's
    OPTIONAL_KEY = "optional_key"  # a primary identifier's fields cannot be optional
    NOT_PRIMARY = "not_primary"  # a foreign identifier must point at a primary one
    INCOMPATIBLE_SCHEMA = "incompatible_schema"  # a new schema breaks the compatibility mode
    SCHEMA_VERSION_IN_USE = "schema_version_in_use"  # records were written in this version
    CURRENT_SCHEMA_VERSION = "current_schema_version"  # the collection's current version stays

    # Records
    ALL_RECORDS_REJECTED = "all_records_rejected"  # no record of the request was valid
    NOT_AN_OBJECT = "not_an_object"  # a record (or item) is a JSON object
    TOO_DEEP = "too_deep"  # nested deeper than Sluice stores
    OUT_OF_RANGE = "out_of_range"  # a number beyond what its Avro type holds
    LONE_SURROGATE = "lone_surrogate"  # a string holding a lone UTF-16 surrogate
    INVALID_TYPE = "invalid_type"  # a value of another type than the schema's
    INVALID_DATE = "invalid_date"  # not an ISO date (logical type date)
    INVALID_TIME_MILLIS = "invalid_time_millis"  # not an ISO time (time-millis)
    INVALID_TIME_MICROS = "invalid_time_micros"  # not an ISO time (time-micros)
    INVALID_TIMESTAMP_MILLIS = "invalid_timestamp_millis"  # not an ISO timestamp
    INVALID_TIMESTAMP_MICROS = "invalid_timestamp_micros"  # not an ISO timestamp
    INVALID_LOCAL_TIMESTAMP_MILLIS = "invalid_local_timestamp_millis"  # not a local timestamp
    INVALID_LOCAL_TIMESTAMP_MICROS = "invalid_local_timestamp_micros"  # not a local timestamp
    INVALID_UUID = "invalid_uuid"  # not a UUID (logical type uuid)
    INVALID_BYTES = "invalid_bytes"  # bytes or fixed text holding a character beyond U+00FF
    WRONG_SIZE = "wrong_size"  # a fixed value not of exactly its size in bytes
    INVALID_DECIMAL = "invalid_decimal"  # not a decimal of its field's precision and scale
    UNKNOWN_COLLECTION = "unknown_collection"  # the org (or source) has no such collection
    UNKNOWN_TYPE = "unknown_type"  # a collector call of a type it does not know
    STORAGE_FAILED = "storage_failed"  # the database refused the record; it is kept rejected
    REJECTED_DROPPED = "rejected_dropped"  # a warning: past the collection's cap, not kept
    UNKNOWN_SCHEMA_VERSION = "unknown_schema_version"  # the collection has no such version
    UNREADABLE_IN_VERSION = "unreadable_in_version"  # Avro's rules cannot read it in that version

    # The Fuzy-style API
    ACCOUNT_CYCLE = "account_cycle"  # an account would be its own ancestor
    USER_OR_ACCOUNT_REQUIRED = "user_or_account_required"  # an event names neither
