// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Signals, not bugs: an owner-only mint, a delegatecall and a selfdestruct, all behind the owner.
contract OwnerMintProxy {
    address public owner;
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        balanceOf[to] += amount;
        totalSupply += amount;
    }

    function run(address target, bytes calldata data) external onlyOwner returns (bytes memory) {
        (bool ok, bytes memory result) = target.delegatecall(data);
        require(ok, "failed");
        return result;
    }

    function close() external onlyOwner {
        selfdestruct(payable(owner));
    }
}
