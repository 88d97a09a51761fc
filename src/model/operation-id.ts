/** What an operation id may be (docs/FORMAT.md): it is also the operation's workflow id. */
export const OPERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
