// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// No known weakness: a per-account counter with an event.
contract CleanCounter {
    mapping(address => uint256) public counts;

    event Counted(address indexed account, uint256 count);

    function increment() external {
        uint256 next = counts[msg.sender] + 1;
        counts[msg.sender] = next;
        emit Counted(msg.sender, next);
    }
}
