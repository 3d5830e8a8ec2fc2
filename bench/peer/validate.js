#!/usr/bin/env node
// The script a team would write instead of relgate (issue 13, bench/compare.sh):
// every YAML document of a release repository at a commit, read from git in
// one streaming `git cat-file --batch`, parsed with js-yaml and checked
// against relgate's own JSON Schemas (draft 2020-12) with ajv. One thread, no
// cross-document checks (references, approvals, the gates): this is the
// floor a plain schema check costs, the part of `relgate validate` a
// general-purpose tool does too.
//
//   node bench/peer/validate.js [--rev REV] [--schemas DIR] [--verbose] REPO
//
// The schema of a file is chosen by its place, as relgate does
// (controller/document/layout.go, Locate): relgate.yaml is the Policy,
// changes/*.yaml Changes, cmdb/*.yaml CMDB items, reviews/*.yaml Reviews,
// approvals/*.yaml and releases/REL/approvals/*.yaml Approvals, and
// releases/REL/<file>.yaml the kind its file name says; the document's own
// apiVersion and kind must agree (relgate's header check). Other paths are
// not documents and are skipped. Plain scalars are read with YAML 1.2's core
// schema, as relgate does: timestamps stay text for the schema's formats.
//
// Prints "documents N, with errors F, errors E" and exits 1 when E > 0.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const API_VERSION = 'relgate.dev/v1';

// Kind by file name inside a release folder (document.ReleaseFiles).
const RELEASE_FILES = {
  'release.yaml': 'Release',
  'plan.yaml': 'Plan',
  'test-report.yaml': 'TestReport',
  'golive.yaml': 'GoLive',
  'communication.yaml': 'Communication',
  'deployment.yaml': 'Deployment',
  'closure.yaml': 'Closure',
};

// Schema file by kind (schemas/schemas.go).
const SCHEMA_FILES = {
  Policy: 'policy.schema.json',
  Change: 'change.schema.json',
  Release: 'release.schema.json',
  Plan: 'plan.schema.json',
  TestReport: 'test-report.schema.json',
  GoLive: 'golive.schema.json',
  Communication: 'communication.schema.json',
  Deployment: 'deployment.schema.json',
  Approval: 'approval.schema.json',
  Closure: 'closure.schema.json',
  CMDBItem: 'cmdb-item.schema.json',
  Review: 'review.schema.json',
};

// kindOf returns the kind a path must hold, '' for an unknown file in a
// release folder (an error), or null for paths that are not documents.
function kindOf(p) {
  if (p === 'relgate.yaml') return 'Policy';
  if (!p.endsWith('.yaml')) return null;
  const parts = p.split('/');
  if (parts.length === 2) {
    switch (parts[0]) {
      case 'changes': return 'Change';
      case 'cmdb': return 'CMDBItem';
      case 'reviews': return 'Review';
      case 'approvals': return 'Approval';
    }
    return null;
  }
  if (parts[0] !== 'releases') return null;
  if (parts.length === 3) return RELEASE_FILES[parts[2]] || '';
  if (parts.length === 4 && parts[2] === 'approvals') return 'Approval';
  return null;
}

function usage() {
  process.stderr.write('usage: node validate.js [--rev REV] [--schemas DIR] [--verbose] REPO\n');
  process.exit(2);
}

function main() {
  let rev = 'HEAD';
  let schemaDir = path.join(__dirname, '..', '..', 'schemas');
  let verbose = false;
  let repo = null;
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--rev') rev = args[++i];
    else if (a === '--schemas') schemaDir = args[++i];
    else if (a === '--verbose') verbose = true;
    else if (a.startsWith('-') || repo !== null) usage();
    else repo = a;
  }
  if (repo === null || rev === undefined || schemaDir === undefined) usage();

  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validators = {};
  for (const [kind, file] of Object.entries(SCHEMA_FILES)) {
    validators[kind] = ajv.compile(JSON.parse(fs.readFileSync(path.join(schemaDir, file), 'utf8')));
  }

  // The tree: mode, type, id and path of every file, NUL-separated.
  const tree = execFileSync('git', ['-C', repo, 'ls-tree', '-r', '-z', '--full-tree', rev],
    { maxBuffer: 1 << 30, encoding: 'utf8' });
  const wanted = []; // [id, path, kind]
  for (const rec of tree.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [mode, type, id] = rec.slice(0, tab).split(' ');
    const p = rec.slice(tab + 1);
    const kind = kindOf(p);
    if (kind === null || type !== 'blob' || mode === '120000') continue;
    wanted.push([id, p, kind]);
  }

  let docs = 0;
  let failed = 0;
  let errors = 0;
  const report = (p, msgs) => {
    failed++;
    errors += msgs.length;
    if (verbose) for (const m of msgs) process.stdout.write(`${p}: ${m}\n`);
  };
  const check = (p, kind, text) => {
    docs++;
    if (kind === '') return report(p, ['not a file relgate knows in a release folder']);
    let doc;
    try {
      doc = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: p });
    } catch (e) {
      return report(p, [`yaml: ${e.message.split('\n')[0]}`]);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return report(p, ['not a mapping']);
    if (doc.apiVersion !== API_VERSION) return report(p, [`apiVersion must be ${API_VERSION}`]);
    if (doc.kind !== kind) return report(p, [`kind must be ${kind}`]);
    const v = validators[kind];
    if (!v(doc)) report(p, v.errors.map((e) => `${e.instancePath || '/'} ${e.message}`));
  };

  // One cat-file process, streaming: ids in, "<id> blob <size>\n<data>\n" out.
  const git = spawn('git', ['-C', repo, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'inherit'] });
  git.on('error', (e) => { process.stderr.write(`git cat-file: ${e.message}\n`); process.exit(1); });
  let next = 0;
  let buf = Buffer.alloc(0);
  let need = -1; // bytes of the current object's data plus its newline, -1 while reading a header
  git.stdout.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (need < 0) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        const header = buf.toString('latin1', 0, nl).split(' ');
        buf = buf.subarray(nl + 1);
        if (header[1] === 'missing') {
          report(wanted[next][1], ['blob missing']);
          next++;
          continue;
        }
        need = Number(header[2]) + 1;
      }
      if (buf.length < need) break;
      const [, p, kind] = wanted[next++];
      check(p, kind, buf.toString('utf8', 0, need - 1));
      buf = buf.subarray(need);
      need = -1;
    }
  });
  git.stdin.on('error', () => {}); // git's exit is reported below
  git.on('close', (code) => {
    if (code !== 0 || next !== wanted.length) {
      process.stderr.write(`git cat-file exited ${code} after ${next} of ${wanted.length} blobs\n`);
      process.exit(1);
    }
    process.stdout.write(`documents ${docs}, with errors ${failed}, errors ${errors}\n`);
    process.exit(errors > 0 ? 1 : 0);
  });
  git.stdin.end(wanted.map((w) => w[0]).join('\n') + '\n');
}

main();
