"""Consumer-driven contracts: what each consumer relies on, checked statically against the
schemas (:func:`check_contracts`) and live against a running provider (:func:`verify_contracts`).

>>> contracts = load_contracts(project / "contracts")
>>> report = check_contracts(contracts, registry)
>>> report.ok, [f.describe() for f in report.failures]
"""

from charter.contracts.live import verify_contracts
from charter.contracts.model import Contract, ContractFileError, Endpoint, Expectation, load_contract, load_contracts
from charter.contracts.report import ContractFailure, ContractReport
from charter.contracts.static import check_contracts

__all__ = [
    "Contract",
    "ContractFailure",
    "ContractFileError",
    "ContractReport",
    "Endpoint",
    "Expectation",
    "check_contracts",
    "load_contract",
    "load_contracts",
    "verify_contracts",
]
