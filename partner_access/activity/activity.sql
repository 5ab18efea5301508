-- The one aggregation behind `partner-access activity`, in Athena's (Trino) dialect, over a table with the columns
-- of AWS's documented CloudTrail table for Athena (lower-case names; useridentity a struct; requestparameters,
-- responseelements and additionaleventdata JSON text). The embedded engine runs this same text in DuckDB, over the
-- trail's files loaded into that shape (with json_extract_scalar defined as a macro); Athena runs it over the
-- trail's table. Keep to what both accept; the tests run it in DuckDB and parse it as Athena, Trino and Presto SQL.
--
-- It reads only columns of that documented table (whose sessioncontext has no sourceidentity: a session's source
-- identity is taken from its AssumeRole, where it is requested and returned, and persists through chaining).
--
-- It reduces any number of records to a few rows per session, which the attribution then links into people:
--   kind 'assume'  one row per AssumeRole into a role of the account that logged it (the host's copy);
--   kind 'switch'  one row per console SwitchRole (signin.amazonaws.com);
--   kind 'calls'   every other record made with role-session or cross-account credentials, counted per credential,
--                  eventSource and eventName;
--   kind 'other'   records of other principals (the host's own users, the root user, AWS services), counted.
-- Placeholders, filled in by partner_access.activity.aggregation: {table}, {since}, {until}, {denial_codes}.
WITH records AS (
    SELECT
        eventtime AS event_time,
        eventsource AS event_source,
        eventname AS event_name,
        awsregion AS region,
        sourceipaddress AS source_ip,
        errorcode AS error_code,
        recipientaccountid AS recipient_account,
        useridentity.type AS identity_type,
        useridentity.accountid AS identity_account,
        useridentity.principalid AS principal_id,
        split_part(useridentity.arn, '/', 2) AS caller_role,
        split_part(useridentity.arn, '/', 3) AS caller_session,
        json_extract_scalar(requestparameters, '$.roleArn') AS requested_role_arn,
        useridentity.accesskeyid AS access_key,
        useridentity.sessioncontext.attributes.mfaauthenticated AS mfa_authenticated,
        useridentity.sessioncontext.attributes.creationdate AS credentials_created,
        requestparameters AS request_parameters,
        responseelements AS response_elements,
        additionaleventdata AS additional_event_data,
        CASE WHEN errorcode IN ({denial_codes}) THEN 1 ELSE 0 END AS is_denied
    FROM {table}
    WHERE eventtime >= '{since}' AND eventtime < '{until}'
),

assumptions AS (
    SELECT
        'assume' AS kind,
        event_time,
        region,
        source_ip,
        error_code,
        recipient_account,
        identity_type,
        identity_account,
        principal_id,
        access_key,
        caller_role,
        caller_session,
        credentials_created,
        requested_role_arn AS role_arn,
        json_extract_scalar(request_parameters, '$.roleSessionName') AS session_name,
        coalesce(
            json_extract_scalar(response_elements, '$.sourceIdentity'),
            json_extract_scalar(request_parameters, '$.sourceIdentity')
        ) AS source_identity,
        json_extract_scalar(response_elements, '$.credentials.accessKeyId') AS issued_key,
        CAST(NULL AS VARCHAR) AS switch_from,
        event_source,
        event_name,
        1 AS records,
        is_denied AS denied,
        0 AS mfa_true,
        0 AS mfa_false
    FROM records
    WHERE event_source = 'sts.amazonaws.com'
        AND event_name = 'AssumeRole'
        AND split_part(requested_role_arn, ':', 5) = recipient_account
),

switches AS (
    SELECT
        'switch' AS kind,
        event_time,
        region,
        source_ip,
        coalesce(
            error_code,
            CASE WHEN json_extract_scalar(response_elements, '$.SwitchRole') = 'Failure' THEN 'Failure' END
        ) AS error_code,
        recipient_account,
        identity_type,
        identity_account,
        principal_id,
        access_key,
        caller_role,
        caller_session,
        credentials_created,
        CAST(NULL AS VARCHAR) AS role_arn,
        CAST(NULL AS VARCHAR) AS session_name,
        CAST(NULL AS VARCHAR) AS source_identity,
        CAST(NULL AS VARCHAR) AS issued_key,
        json_extract_scalar(additional_event_data, '$.SwitchFrom') AS switch_from,
        event_source,
        event_name,
        1 AS records,
        is_denied AS denied,
        0 AS mfa_true,
        0 AS mfa_false
    FROM records
    WHERE event_source = 'signin.amazonaws.com' AND event_name = 'SwitchRole'
),

session_calls AS (
    SELECT
        'calls' AS kind,
        min(event_time) AS event_time,
        CAST(NULL AS VARCHAR) AS region,
        min_by(source_ip, event_time) AS source_ip,
        CAST(NULL AS VARCHAR) AS error_code,
        recipient_account,
        identity_type,
        identity_account,
        min(principal_id) AS principal_id,
        access_key,
        caller_role,
        caller_session,
        credentials_created,
        CAST(NULL AS VARCHAR) AS role_arn,
        CAST(NULL AS VARCHAR) AS session_name,
        CAST(NULL AS VARCHAR) AS source_identity,
        CAST(NULL AS VARCHAR) AS issued_key,
        CAST(NULL AS VARCHAR) AS switch_from,
        event_source,
        event_name,
        count(*) AS records,
        sum(is_denied) AS denied,
        sum(CASE WHEN mfa_authenticated = 'true' THEN 1 ELSE 0 END) AS mfa_true,
        sum(CASE WHEN mfa_authenticated = 'false' THEN 1 ELSE 0 END) AS mfa_false
    FROM records
    WHERE identity_type IN ('AssumedRole', 'AWSAccount')
        AND NOT (event_source = 'signin.amazonaws.com' AND event_name = 'SwitchRole')
        AND NOT (
            event_source = 'sts.amazonaws.com'
            AND event_name = 'AssumeRole'
            AND identity_type = 'AWSAccount'
            AND split_part(requested_role_arn, ':', 5) = recipient_account
        )
    GROUP BY
        recipient_account,
        identity_type,
        identity_account,
        access_key,
        caller_role,
        caller_session,
        credentials_created,
        event_source,
        event_name
),

other_principals AS (
    SELECT
        'other' AS kind,
        min(event_time) AS event_time,
        CAST(NULL AS VARCHAR) AS region,
        CAST(NULL AS VARCHAR) AS source_ip,
        CAST(NULL AS VARCHAR) AS error_code,
        recipient_account,
        identity_type,
        identity_account,
        CAST(NULL AS VARCHAR) AS principal_id,
        CAST(NULL AS VARCHAR) AS access_key,
        CAST(NULL AS VARCHAR) AS caller_role,
        CAST(NULL AS VARCHAR) AS caller_session,
        CAST(NULL AS VARCHAR) AS credentials_created,
        CAST(NULL AS VARCHAR) AS role_arn,
        CAST(NULL AS VARCHAR) AS session_name,
        CAST(NULL AS VARCHAR) AS source_identity,
        CAST(NULL AS VARCHAR) AS issued_key,
        CAST(NULL AS VARCHAR) AS switch_from,
        CAST(NULL AS VARCHAR) AS event_source,
        CAST(NULL AS VARCHAR) AS event_name,
        count(*) AS records,
        sum(is_denied) AS denied,
        0 AS mfa_true,
        0 AS mfa_false
    FROM records
    WHERE identity_type IS NULL OR identity_type NOT IN ('AssumedRole', 'AWSAccount')
    GROUP BY recipient_account, identity_type, identity_account
)

SELECT * FROM assumptions
UNION ALL
SELECT * FROM switches
UNION ALL
SELECT * FROM session_calls
UNION ALL
SELECT * FROM other_principals
