#!/usr/bin/env node
// The second IAM evaluator of tests/security (crosscheck.py): @cloud-copilot/iam-simulate,
// an independent implementation, asked the same concrete requests as tests/security/iam_eval.py.
//
// stdin, one JSON document (one process for the whole batch):
//   {"documents": {"<name>": <policy document>, ...},
//    "cases": [{"identity": ["<name>", ...], "resource_policy": "<name>" | null,
//               "request": {"principal": "<ARN>", "action": "<service:Action>", "resource": "<ARN>",
//                           "account": "<resource account>", "context": {"<key>": "<value>" | ["<value>", ...]}}},
//              ...]}
// stdout, one JSON document, the answers in the order of the cases:
//   {"simulator": {"name": ..., "version": ...},
//    "answers": [{"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied",
//                 "ignored_context_keys": [...] | null}
//               | {"error": "<why iam-simulate would not evaluate this request>"}, ...]}
// A malformed batch is an error (exit 1, the reason on stderr); a request iam-simulate refuses
// is an answer with "error", which the Python side reports as a disagreement.
'use strict';

const fs = require('fs');
const path = require('path');
const { runSimulation } = require('@cloud-copilot/iam-simulate');

const PACKAGE = '@cloud-copilot/iam-simulate';

function simulatorVersion() {
  const manifest = path.join(__dirname, 'node_modules', PACKAGE, 'package.json');
  return JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
}

function readBatch() {
  const batch = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (!batch || typeof batch.documents !== 'object' || !Array.isArray(batch.cases)) {
    throw new Error('expected {"documents": {...}, "cases": [...]} on stdin');
  }
  return batch;
}

function documentNamed(documents, name) {
  if (!(name in documents)) {
    throw new Error(`a case names the policy document ${JSON.stringify(name)}, which the batch does not hold`);
  }
  return documents[name];
}

function simulation(documents, testCase) {
  const request = testCase.request;
  return {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.account },
      contextVariables: request.context || {},
    },
    identityPolicies: testCase.identity.map((name) => ({ name, policy: documentNamed(documents, name) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: testCase.resource_policy ? documentNamed(documents, testCase.resource_policy) : undefined,
  };
}

// The keys iam-simulate dropped because the action does not define them; null when it did not say
// (a wildcard resource, such as a log group's ":*" ARN, that no policy pattern narrowed).
function ignoredContextKeys(result) {
  if (result.resultType === 'single') {
    return result.result.ignoredContextKeys || [];
  }
  if (result.results.length === 0) {
    return null;
  }
  return [...new Set(result.results.flatMap((r) => r.ignoredContextKeys || []))];
}

async function answer(documents, testCase) {
  const input = simulation(documents, testCase); // a malformed case is a malformed batch: fatal
  let result;
  try {
    result = await runSimulation(input, { simulationMode: 'Strict' });
  } catch (error) {
    // iam-simulate throws for some inputs it cannot place (e.g. several resource types match):
    // that request's answer is the error, reported by the Python side, never a decision.
    return { error: `iam-simulate threw: ${error.message}` };
  }
  if (result.resultType === 'error') {
    return { error: `iam-simulate refused the request: ${JSON.stringify(result.errors)}` };
  }
  return { decision: result.overallResult, ignored_context_keys: ignoredContextKeys(result) };
}

async function main() {
  const batch = readBatch();
  const answers = [];
  for (const testCase of batch.cases) {
    answers.push(await answer(batch.documents, testCase));
  }
  process.stdout.write(JSON.stringify({ simulator: { name: PACKAGE, version: simulatorVersion() }, answers }));
}

main().catch((error) => {
  process.stderr.write(`simulate.js: ${error.message}\n`);
  process.exit(1);
});
