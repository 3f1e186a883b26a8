// Reads a cucumber.json with the two npm consumers qualcert is checked
// against and prints, as JSON, what each counts:
//   node count.js cucumber.json out-dir
// cucumber-html-reporter: the "Scenarios" chart of the HTML it writes.
// cucumber-junit: its JUnit XML, a testsuite per scenario (failed when a
// step failed; hooks are not read).
"use strict";
const fs = require("fs");
const path = require("path");
const [jsonFile, outDir] = process.argv.slice(2);
const out = {};

const reporter = require("cucumber-html-reporter");
const html = path.join(outDir, "cucumber-html-reporter.html");
const log = console.log;
console.log = () => {}; // the reporter prints a banner
reporter.generate({ theme: "bootstrap", jsonFile, output: html, launchReport: false, reportSuiteAsScenarios: true, noInlineScreenshots: true, storeScreenshots: false });
console.log = log;
const page = fs.readFileSync(html, "utf8");
const m = page.match(/"title": "Scenarios",\s*"failed": (\d+),\s*"passed": (\d+),[\s\S]*?"skipped": (\d+)/);
if (!m) throw new Error("no Scenarios chart in " + html);
out.cucumberHtmlReporter = { failed: +m[1], passed: +m[2], skipped: +m[3] };

const junit = require("cucumber-junit");
const xml = junit(fs.readFileSync(jsonFile, "utf8"), { strict: true });
fs.writeFileSync(path.join(outDir, "cucumber-junit.xml"), xml);
const suites = [...xml.matchAll(/<testsuite name="[^"]*" tests="(\d+)" failures="(\d+)" skipped="(\d+)"/g)];
out.cucumberJunit = {
  scenarios: suites.length,
  failed: suites.filter((s) => +s[2] > 0).length,
  skipped: suites.filter((s) => +s[2] === 0 && +s[3] > 0 && s[3] === s[1]).length,
};
process.stdout.write(JSON.stringify(out) + "\n");
