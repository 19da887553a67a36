"""SMS: a gateway to the operators' SMSC (SMPP 3.4), texts in UCS-2 and in parts."""
