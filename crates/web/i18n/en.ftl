# parceld tracking page: English (the reference catalog; every other catalog has the same keys).

## Dates and times. `date` gets $day, $month (a name from month-N), $monthnum and $year;
## `clock` is 12 or 24.
date = { $month } { $day }, { $year }
clock = 12
time-am = AM
time-pm = PM
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec

## Page text.
skip-link = Skip to content
language-label = Language
language-button = Change
lookup-title = Track your order
lookup-heading = Where is my parcel?
lookup-intro = Enter your tracking number, or your order number with the email address, phone number or postal code you gave when ordering.
by-number-heading = Track by tracking number
number-label = Tracking number
by-order-heading = Track by order number
order-label = Order number
contact-label = Email, phone number or postal code
track-button = Track
shipment-title = Shipment status
order-title = Your order
not-found-heading = We could not find this shipment
not-found-text = Check the number and try again. A new shipment can take a day to appear.
order-not-found-text = No parcel matches this order number and contact detail. Check both and try again.
invalid-number = A tracking number has 4 to 50 letters, digits, hyphens or underscores.
invalid-order = Enter your order number and your email address, phone number or postal code.
no-page-heading = This tracking page does not exist
no-page-text = Check the link you were given.
rate-limited-heading = Too many requests
rate-limited-text = Please wait a minute, then try again.
error-heading = Something went wrong
error-text = Please try again in a moment.
latest-event = Latest update
estimated-delivery = Estimated delivery
courier = Courier
courier-website = Courier website
courier-phone = Courier phone
tracking-number = Tracking number
order-number = Order number
contents = Contents
history-heading = Shipment history
no-events = No updates from the courier yet.
parcel-of = Parcel { $index } of { $count }
parcels-in-order = { $count ->
    [one] One parcel in this order
   *[other] { $count } parcels in this order
}
progress-label = Delivery progress
step-done = done
step-current = current step
step-problem = needs attention
milestone-ordered = Ordered
milestone-inforeceived = Label created
milestone-transit = In transit
milestone-pickup = Out for delivery
milestone-delivered = Delivered
support-heading = Need help?
support-website = Help centre
support-email = Email
support-phone = Phone
another-lookup = Track another parcel
updates-heading = Get updates by email
email-label = Email address
updates-button = Notify me
updates-done = Done: we will email you when this parcel moves. Every email has a link to stop them.
updates-invalid = That is not an email address. Please check it and try again.
updates-full = This parcel already has as many email subscribers as it can take. Please ask the shop for news instead.
powered-by = Tracking by parceld

## Statuses.
status-pending = Waiting for the courier
status-notfound = Not found yet
status-inforeceived = Label created
status-transit = In transit
status-pickup = Out for delivery
status-undelivered = Delivery attempt failed
status-delivered = Delivered
status-exception = Problem with the delivery
status-expired = No recent updates

## Sub-statuses.
substatus-notfound001 = The courier has not picked up the parcel yet.
substatus-notfound002 = The courier has no information about this number yet.
substatus-inforeceived001 = The parcel is waiting for the courier to pick it up.
substatus-transit001 = On the way to the destination.
substatus-transit002 = Arrived at a sorting centre.
substatus-transit003 = Arrived at the delivery facility.
substatus-transit004 = Arrived in the destination country.
substatus-transit005 = Customs clearance completed.
substatus-transit006 = The parcel has been dispatched.
substatus-transit007 = Departed from the airport.
substatus-pickup001 = The parcel is out for delivery.
substatus-pickup002 = Ready for collection at a pickup point.
substatus-pickup003 = The courier contacted the recipient before delivery.
substatus-undelivered001 = There is a problem with the address.
substatus-undelivered002 = Nobody was at home.
substatus-undelivered003 = The recipient could not be found.
substatus-undelivered004 = The parcel could not be delivered.
substatus-delivered001 = Delivered.
substatus-delivered002 = Collected by the recipient.
substatus-delivered003 = Signed for by the recipient.
substatus-delivered004 = Left at the door or with a neighbour.
substatus-exception004 = The parcel was not collected.
substatus-exception005 = The courier reported a problem.
substatus-exception006 = Held by customs.
substatus-exception007 = Lost, damaged or destroyed.
substatus-exception008 = Cancelled before pickup.
substatus-exception009 = Refused by the recipient.
substatus-exception010 = Returned to the sender.
substatus-exception011 = On its way back to the sender.
substatus-expired001 = The courier has not reported anything for a long time.
substatus-pending001 = Waiting for the first answer from the courier.
