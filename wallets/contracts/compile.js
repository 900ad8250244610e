// Compiles DemoToken.sol with solc-js (npm `solc`) into DemoToken.json (abi + bytecode).
// Run: node wallets/contracts/compile.js   (the artifact is committed beside the source)
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const source = fs.readFileSync(path.join(__dirname, "DemoToken.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "DemoToken.sol": { content: source } },
  settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) { console.error(errors.map((e) => e.formattedMessage).join("\n")); process.exit(1); }
const contract = output.contracts["DemoToken.sol"].DemoToken;
fs.writeFileSync(path.join(__dirname, "DemoToken.json"), JSON.stringify({
  compiler: "solc-js " + solc.version(),
  abi: contract.abi,
  bytecode: "0x" + contract.evm.bytecode.object,
}, null, 1) + "\n");
console.log("wrote DemoToken.json with", solc.version());
