// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// A low-level call whose result is ignored: a failed payment is recorded as paid.
contract UncheckedCall {
    address public owner;
    mapping(address => bool) public paid;

    constructor() payable {
        owner = msg.sender;
    }

    function pay(address to, uint256 amount) external {
        require(msg.sender == owner, "not owner");
        paid[to] = true;
        to.call{value: amount}("");
    }

    receive() external payable {}
}
