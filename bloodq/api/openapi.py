"""The OpenAPI 3.1 description of every endpoint, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from bloodq.jobs import JobStatus

_NULLABLE_STR = {'type': ['string', 'null']}
_ISO = {'type': ['string', 'null'], 'format': 'date-time'}
_JOB_ID = {'name': 'job_id', 'in': 'path', 'required': True, 'schema': {'type': 'string'},
           'description': 'a job id (uuid4); anything else is a 404'}


def _ref(name: str) -> dict[str, str]:
    return {'$ref': f'#/components/schemas/{name}'}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {'description': description, 'content': {'application/json': {'schema': schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {400: 'malformed request or unknown parameter', 401: 'bearer token missing or wrong', 404: 'no such job',
               408: 'upload too slow', 409: "not allowed in the job's state", 413: 'upload too large',
               415: 'upload is not a PDF', 422: 'content refused', 503: 'queue full or backend unreachable'}
    return {str(c): _json(_ref('Error'), meaning[c]) for c in codes}



_SUBMIT_FORM = {
    'required': True,
    'content': {'multipart/form-data': {
        'schema': {
            'type': 'object', 'required': ['file'], 'additionalProperties': False,
            'properties': {
                'file': {'type': 'string', 'format': 'binary', 'contentMediaType': 'application/pdf'},
                'query': {'type': 'string', 'maxLength': 4000},
                'priority': {'type': 'string', 'enum': ['high', 'normal', 'low']},
                'callback': {'type': 'string', 'format': 'uri', 'maxLength': 2048},
            },
        },
        'encoding': {'file': {'contentType': 'application/pdf'}},
    }},
}
_SUBMIT_ERRORS = _errors(400, 401, 408, 413, 415, 422, 503)
_IDEMPOTENCY = {'name': 'Idempotency-Key', 'in': 'header', 'required': False,
                'schema': {'type': 'string', 'maxLength': 255}}

SCHEMAS: dict[str, Any] = {
    'Error': {
        'type': 'object', 'required': ['error'],
        'properties': {'error': {'type': 'object', 'required': ['code', 'message'],
                                 'properties': {'code': {'type': 'string'}, 'message': {'type': 'string'}}}},
    },
    'Submitted': {
        'type': 'object',
        'required': ['status', 'job_id', 'request_id', 'message', 'status_url', 'file_processed',
                     'position_in_queue', 'estimated_processing_time', 'estimated_completion', 'processing_info'],
        'properties': {
            'status': {'type': 'string', 'enum': [s.value for s in JobStatus]},
            'job_id': {'type': 'string', 'format': 'uuid'},
            'request_id': {'type': 'string'}, 'message': {'type': 'string'}, 'status_url': {'type': 'string'},
            'file_processed': {'type': 'string'}, 'priority': {'type': 'string'},
            'idempotent_replay': {'type': 'boolean'},
            'position_in_queue': {'type': ['integer', 'null'], 'minimum': 1},
            'estimated_processing_time': {'type': 'number', 'description': 'seconds'},
            'estimated_completion': _ISO,
            'processing_info': {'type': 'object', 'required': ['file_size_bytes', 'timestamp', 'mode'], 'properties': {
                'file_size_bytes': {'type': 'integer'}, 'timestamp': _ISO, 'mode': {'const': 'asynchronous'}}},
        },
    },
    'LabResult': {
        'type': 'object',
        'required': ['name', 'canonical', 'value', 'unit', 'ref_low', 'ref_high', 'ref_text', 'flag'],
        'properties': {
            'name': {'type': 'string'}, 'canonical': {'type': 'string'}, 'value': {'type': 'number'},
            'unit': {'type': 'string'}, 'ref_low': {'type': ['number', 'null']},
            'ref_high': {'type': ['number', 'null']}, 'ref_text': {'type': 'string'},
            'flag': {'enum': ['low', 'normal', 'high', None]}, 'panel': {'type': 'string'}, 'page': {'type': 'integer'},
        },
    },
    'Result': {
        'type': 'object',
        'required': ['status', 'query', 'analysis', 'file_processed', 'processing_time', 'specialists_consulted',
                     'disclaimer', 'results'],
        'properties': {
            'status': {'const': 'success'}, 'query': {'type': 'string'}, 'analysis': {'type': 'string'},
            'file_processed': {'type': 'string'}, 'processing_time': {'type': 'number'},
            'specialists_consulted': {'type': 'array', 'items': {'type': 'string'}},
            'disclaimer': {'type': 'string'}, 'results': {'type': 'array', 'items': _ref('LabResult')},
            'report_url': {'type': 'string'},
        },
    },
    'Job': {
        'type': 'object', 'required': ['job_id', 'status', 'created_at', 'updated_at', 'attempts'],
        'properties': {
            'job_id': {'type': 'string', 'format': 'uuid'},
            'status': {'type': 'string', 'enum': [s.value for s in JobStatus]},
            'priority': {'type': 'string'}, 'created_at': _ISO, 'updated_at': _ISO, 'started_at': _ISO,
            'finished_at': _ISO, 'attempts': {'type': 'integer', 'minimum': 0},
            'file_processed': {'type': 'string'},
            'progress': {'type': 'integer', 'minimum': 0, 'maximum': 100}, 'stage': {'type': 'string'},
            'position_in_queue': {'type': ['integer', 'null']}, 'estimated_completion': _ISO,
            'estimated_processing_time': {'type': 'number'},
            'result': _ref('Result'), 'report_url': {'type': 'string'},
            'error': {'type': 'object', 'required': ['code', 'message']},
            'callback': {'type': 'object', 'properties': {
                'attempts': {'type': 'integer'}, 'last_status': {'type': ['integer', 'string', 'null']},
                'delivered_at': _ISO, 'gave_up': {'type': 'boolean'}}},
        },
    },
}


def _status_params() -> list[dict[str, Any]]:
    return [_JOB_ID, {'name': 'wait', 'in': 'query', 'required': False,
                      'schema': {'type': 'number', 'minimum': 0, 'maximum': 60},
                      'description': 'long-poll: answer when the job ends or after this many seconds'}]


def _status_op(summary: str) -> dict[str, Any]:
    return {'summary': summary, 'parameters': _status_params(),
            'responses': {'200': _json(_ref('Job'), 'the job'), **_errors(400, 401, 404, 422)}}


PATHS: dict[str, Any] = {
    '/analyze-async': {'post': {
        'summary': 'Queue a report for analysis', 'parameters': [_IDEMPOTENCY], 'requestBody': _SUBMIT_FORM,
        'responses': {'202': _json(_ref('Submitted'), 'accepted'),
                      '200': _json(_ref('Submitted'), 'an Idempotency-Key replay'), **_SUBMIT_ERRORS}}},
    '/analyze': {'post': {
        'summary': 'Queue a report and wait up to SYNC_TIMEOUT for its result', 'parameters': [_IDEMPOTENCY],
        'requestBody': _SUBMIT_FORM,
        'responses': {'200': _json({'type': 'object'}, 'the result'),
                      '202': _json(_ref('Submitted'), 'still running; follow status_url'), **_SUBMIT_ERRORS}}},
    '/status/{job_id}': {'get': _status_op("A job's status (and result when completed)")},
    '/jobs/{job_id}': {
        'get': _status_op('Same as /status/{job_id}'),
        'delete': {'summary': 'Stop and erase a job', 'parameters': [_JOB_ID],
                   'responses': {'200': _json({'type': 'object', 'required': ['job_id', 'deleted']}, 'erased'),
                                 **_errors(401, 404)}}},
    '/jobs': {'get': {
        'summary': 'Jobs newest first',
        'parameters': [
            {'name': 'status', 'in': 'query', 'schema': {'type': 'string', 'enum': [s.value for s in JobStatus]}},
            {'name': 'limit', 'in': 'query', 'schema': {'type': 'integer', 'minimum': 1, 'maximum': 200}},
            {'name': 'cursor', 'in': 'query', 'schema': {'type': 'string', 'pattern': '^[0-9]+$'}}],
        'responses': {'200': _json({'type': 'object', 'required': ['jobs', 'next_cursor'], 'properties': {
            'jobs': {'type': 'array', 'items': _ref('Job')}, 'next_cursor': _NULLABLE_STR}}, 'a page of jobs'),
            **_errors(400, 401, 422)}}},
    '/jobs/{job_id}/cancel': {'post': {
        'summary': 'Cancel a job', 'parameters': [_JOB_ID],
        'responses': {'200': _json(_ref('Job'), 'cancelled or stopping'), **_errors(401, 404, 409)}}},
    '/jobs/{job_id}/retry': {'post': {
        'summary': 'Queue a failed or cancelled job again', 'parameters': [_JOB_ID],
        'responses': {'202': _json(_ref('Job'), 'queued again'), **_errors(401, 404, 409)}}},
    '/jobs/{job_id}/report.pdf': {'get': {
        'summary': 'The PDF summary of a completed job', 'parameters': [_JOB_ID],
        'responses': {'200': {'description': 'the report', 'content': {'application/pdf': {'schema': {
            'type': 'string', 'format': 'binary'}}}}, **_errors(401, 404)}}},
    '/queue/stats': {'get': {'summary': 'Queue, consumers, throughput', 'responses': {
        '200': _json({'type': 'object', 'required': ['queue_enabled', 'queue_length', 'backend', 'status', 'workers',
                                                     'processing', 'jobs_by_status']}, 'statistics'),
        **_errors(401)}}},
    '/metrics': {'get': {'summary': 'Prometheus metrics', 'responses': {
        '200': {'description': 'text exposition format', 'content': {'text/plain': {'schema': {'type': 'string'}}}},
        **_errors(401)}}},
    '/health': {'get': {'summary': 'Liveness', 'security': [], 'responses': {
        '200': _json({'type': 'object', 'required': ['status'], 'properties': {'status': {'const': 'ok'}}}, 'alive')}}},
    '/openapi.json': {'get': {'summary': 'This document', 'security': [], 'responses': {
        '200': _json({'type': 'object'}, 'OpenAPI 3.1')}}},
}


def document(extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        'openapi': '3.1.0',
        'info': {'title': 'bloodq', 'version': '0.1.0',
                 'description': 'Blood-test report analysis: upload, queue, status, results and report PDF.'},
        'paths': {**PATHS, **(extra_paths or {})},
        'components': {'schemas': SCHEMAS, 'securitySchemes': {'bearer': {'type': 'http', 'scheme': 'bearer'}}},
        'security': [{'bearer': []}, {}],
    }
