// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Authorisation by tx.origin: any contract the owner calls can move the funds.
contract TxOriginWallet {
    address public owner;

    constructor() payable {
        owner = msg.sender;
    }

    function transferTo(address payable to, uint256 amount) external {
        require(tx.origin == owner, "not owner");
        to.transfer(amount);
    }

    receive() external payable {}
}
